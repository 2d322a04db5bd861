"""A group commit waits for a burst's requests still being parsed, never for a request that came alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from bot.pipeline.arrivals import Arrivals
from bot.pipeline.group_commit import BatchRecorder

CAP = 2.0  # long enough that a test passing within it shows the wait ended for its reason, not the cap
QUIET = 0.05


def timed_gather(arrivals: Arrivals, cap: float = CAP, quiet: float = QUIET) -> float:
    start = time.monotonic()
    arrivals.gather(cap, quiet)
    return time.monotonic() - start


def test_a_request_that_came_alone_is_not_held_back() -> None:
    arrivals = Arrivals()
    with arrivals.arriving():
        arrivals.settled()
        assert timed_gather(arrivals) < QUIET


def request_settling_after(arrivals: Arrivals, seconds: float) -> threading.Thread:
    """A request on its own thread that reaches its commit `seconds` after arriving, then waits on."""
    arrived = threading.Event()

    def request() -> None:
        with arrivals.arriving():
            arrived.set()
            time.sleep(seconds)
            arrivals.settled()
            time.sleep(0.5)  # waiting for its commit, say: nobody waits for it any more

    thread = threading.Thread(target=request)
    thread.start()
    assert arrived.wait(5)
    return thread


def test_a_request_that_came_alone_is_waited_for_only_until_it_reaches_its_commit() -> None:
    arrivals = Arrivals()
    thread = request_settling_after(arrivals, 0.1)
    waited = timed_gather(arrivals, quiet=1.0)
    thread.join()
    assert 0.08 <= waited < 0.5, waited  # its own parsing, not the 1 s a burst would get


def test_requests_arriving_close_together_are_waited_for_until_they_stop() -> None:
    arrivals = Arrivals()
    for _ in range(2):
        with arrivals.arriving():
            pass  # ended without a commit: settled on the way out
    waited = timed_gather(arrivals, quiet=0.3)
    assert 0.2 <= waited < 0.6, waited


def test_the_wait_never_outlasts_its_cap() -> None:
    arrivals = Arrivals()
    thread = request_settling_after(arrivals, 1.0)
    waited = timed_gather(arrivals, cap=0.2)
    thread.join()
    assert 0.2 <= waited < 0.5, waited


def test_the_recorder_gathers_before_taking_its_batch() -> None:
    """Items queued while the gather waits go into the first commit, not a second one."""
    batches: list[list[int]] = []
    gathering = threading.Event()
    go_on = threading.Event()

    def gather() -> None:
        gathering.set()
        go_on.wait(5)

    def write(items: Sequence[int]) -> list[int]:
        batches.append(list(items))
        return list(items)

    recorder: BatchRecorder[int, int] = BatchRecorder(write, name="test-gather", gather=gather)
    futures = [recorder.submit(1, lambda _r: None)]
    assert gathering.wait(5)
    futures += [recorder.submit(i, lambda _r: None) for i in (2, 3)]
    go_on.set()
    for future in futures:
        future.result(timeout=5)
    recorder.close()
    assert batches == [[1, 2, 3]]
