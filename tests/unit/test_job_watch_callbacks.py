"""JobWatch.when_finished: a web replica's replies wait for workers' jobs without a thread each."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from bot.pipeline.job_watch import Finished, JobWatch


class _Jobs:
    def __init__(self) -> None:
        self.ended: dict[int, tuple[bool, str | None]] = {}
        self.reads = 0

    def finished_among(self, ids: list[int]) -> dict[int, tuple[bool, str | None]]:
        self.reads += 1
        return {job: self.ended[job] for job in ids if job in self.ended}


class _Tx:
    def __init__(self, jobs: _Jobs) -> None:
        self.jobs = jobs

    def __enter__(self) -> _Tx:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class _Listener:
    """Stands in for the LISTEN connection: the test delivers the notices itself."""

    def __init__(self, wake: Callable[[], None], heard: Callable[[str], None]) -> None:
        self.listening = threading.Event()
        self.wake, self.heard = wake, heard

    def start(self) -> None:
        self.listening.set()
        self.wake()

    def stop(self) -> None:
        self.listening.clear()


class _Calls:
    def __init__(self) -> None:
        self.got: list[tuple[Finished | None, str]] = []
        self.came = threading.Event()

    def __call__(self, ended: Finished | None) -> None:
        self.got.append((ended, threading.current_thread().name))
        self.came.set()


def _watch(jobs: _Jobs, **kw: Any) -> JobWatch:
    return JobWatch(lambda: _Tx(jobs), **kw)  # type: ignore[arg-type, return-value]


def test_a_job_read_as_finished_calls_back_once_on_the_watch_thread() -> None:
    jobs = _Jobs()
    watch = _watch(jobs, interval=0.01)
    calls = _Calls()
    watch.when_finished(7, timeout=10, then=calls)
    time.sleep(0.05)
    assert calls.got == []
    jobs.ended[7] = (False, "C7")
    assert calls.came.wait(2)
    time.sleep(0.05)
    assert calls.got == [(Finished(False, "C7"), "incidentbot-job-watch")]


def test_a_job_not_finished_in_time_calls_back_with_none_at_its_deadline() -> None:
    jobs = _Jobs()
    watch = _watch(jobs, interval=0.01)
    calls = _Calls()
    started = time.monotonic()
    watch.when_finished(8, timeout=0.2, then=calls)
    assert calls.came.wait(2)
    assert time.monotonic() - started >= 0.2
    jobs.ended[8] = (True, None)  # ending later calls nobody: the callback was answered
    time.sleep(0.1)
    assert [ended for ended, _ in calls.got] == [None]


def test_while_listening_a_deadline_is_kept_though_the_fallback_read_is_a_minute_away() -> None:
    jobs = _Jobs()
    listeners: list[_Listener] = []

    def listen(wake: Callable[[], None], heard: Callable[[str], None]) -> _Listener:
        listeners.append(_Listener(wake, heard))
        return listeners[-1]

    watch = _watch(jobs, listen=listen, fallback=60.0)
    late, heard = _Calls(), _Calls()
    watch.when_finished(1, timeout=0.3, then=late)
    watch.when_finished(2, timeout=30, then=heard)
    listeners[0].heard("2 1 C2")  # a worker's notice: answered at once, without a read
    assert heard.came.wait(2) and heard.got[0][0] == Finished(True, "C2")
    assert late.came.wait(3), "the deadline waited for the one-minute fallback read"
    assert late.got[0][0] is None
    # A reply that starts waiting after its job's notice was heard is answered at once, on its own thread.
    again = _Calls()
    watch.when_finished(2, timeout=30, then=again)
    assert again.got == [(Finished(True, "C2"), threading.current_thread().name)]
    watch.close()


def test_a_failing_callback_is_logged_and_the_others_still_run() -> None:
    jobs = _Jobs()
    watch = _watch(jobs, interval=0.01)
    calls = _Calls()

    def broken(ended: Finished | None) -> None:
        raise RuntimeError(f"boom on {ended}")

    watch.when_finished(3, timeout=10, then=broken)
    watch.when_finished(3, timeout=10, then=calls)
    jobs.ended[3] = (False, "C3")
    assert calls.came.wait(2) and calls.got[0][0] == Finished(False, "C3")
