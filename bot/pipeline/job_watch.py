"""Wait for jobs a worker process runs, so a web replica's replies say what actually happened.

On PostgreSQL a worker finishing a job sends a notice saying how it ended and where its room is (LISTEN
on the watch's own connection), so a waiting reply is answered without reading anything; a read of every
awaited job in one query covers what a notice cannot: jobs that finished before the listener was in place
(on each connect) and, as a slow fallback, a notice lost in a reconnect. Elsewhere (SQLite, or while the
listener is away) one thread reads every awaited job in one query per interval, however many replies
wait; it runs only while someone waits.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from store.notify import finished_notice
from store.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1
# While listening, a read happens at least this often anyway: a notice can be lost in a reconnect.
FALLBACK_SECONDS = 1.0
# Jobs heard finishing are remembered this many at a time: a reply may start waiting after its job ended.
REMEMBERED = 4096


class Listener(Protocol):
    """A LISTEN on the job-finished channel (store.notify.JobListener), calling back on each notice."""

    listening: threading.Event

    def start(self) -> None: ...

    def stop(self) -> None: ...


# Starts listening: the first callback on each (re)connect, the second with each notice's payload.
ListenerFactory = Callable[[Callable[[], None], Callable[[str], None]], Listener]


@dataclass(frozen=True)
class Finished:
    """How a job ended, read by the watch's one query: given up or not, and its incident's room."""

    gave_up: bool
    channel_id: str | None


# Called once with how a job ended, or with None when it did not end in time.
Then = Callable[["Finished | None"], None]


class JobWatch:
    """Tell callers when their job is finished by some worker, by a callback that holds no thread
    meanwhile (`when_finished`; `wait` blocks on one), each bounded by a timeout."""

    def __init__(
        self,
        uow: Callable[[], SqlUnitOfWork],
        interval: float = POLL_SECONDS,
        listen: ListenerFactory | None = None,
        fallback: float = FALLBACK_SECONDS,
    ) -> None:
        self._uow = uow
        self._interval = interval
        self._listen = listen
        self._listener: Listener | None = None
        self._connected = threading.Event()  # the listener (re)connected: jobs may have ended unheard
        self._fallback = fallback
        self._lock = threading.Lock()
        self._heard: OrderedDict[int, Finished] = OrderedDict()
        self._callbacks: dict[int, list[tuple[float, Then]]] = {}  # job -> (deadline, callback)
        self._thread: threading.Thread | None = None

    def wait(self, job_id: int, timeout: float) -> Finished | None:
        """How the job ended once some worker finished it; None if it did not within `timeout`."""
        answered = threading.Event()
        ended: list[Finished | None] = []

        def then(finished: Finished | None) -> None:
            ended.append(finished)
            answered.set()

        self.when_finished(job_id, timeout, then)
        answered.wait(timeout + self._interval)  # the deadline's callback comes on the poll thread
        return ended[0] if ended else None

    def when_finished(self, job_id: int, timeout: float, then: Then) -> None:
        """Call `then` once: with how the job ended when some worker finishes it, or with None after
        `timeout`. It runs on the watch's threads, so it must only hand work on; no thread waits meanwhile
        (a burst's hundred replies would otherwise wake a hundred threads while its acks are being sent)."""
        with self._lock:
            heard = self._heard.get(job_id)
            if heard is None:
                self._callbacks.setdefault(job_id, []).append((time.monotonic() + timeout, then))
                self._watching()
        if heard is not None:
            _call(then, heard)

    def _watching(self) -> None:
        """Start listening and the poll thread, if they are not running (called holding the lock)."""
        if self._listener is None and self._listen is not None:  # kept for the process's life
            self._listener = self._listen(self._connected.set, self._hear)
            self._listener.start()
        if self._thread is None:
            self._thread = threading.Thread(target=self._poll, name="incidentbot-job-watch", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop listening (the process is stopping)."""
        with self._lock:
            listener, self._listener, self._listen = self._listener, None, None
        if listener is not None:
            listener.stop()

    def _hear(self, payload: str) -> None:
        """A worker's notice: answer its waiter at once, and remember it for one that comes later."""
        notice = finished_notice(payload)
        if notice is None:
            return
        job_id, gave_up, channel = notice
        self._found({job_id: (gave_up, channel)}, remember=True)

    def _found(self, finished: dict[int, tuple[bool, str | None]], *, remember: bool = False) -> None:
        calls: list[tuple[Then, Finished]] = []
        with self._lock:
            for job_id, (gave_up, channel) in finished.items():
                ended = Finished(gave_up, channel)
                if remember:
                    self._heard[job_id] = ended
                    if len(self._heard) > REMEMBERED:
                        self._heard.popitem(last=False)
                calls += [(then, ended) for _, then in self._callbacks.pop(job_id, ())]
        for then, ended in calls:
            _call(then, ended)

    def _expired(self) -> list[Then]:
        """Take the callbacks whose time is up (called holding the lock)."""
        now = time.monotonic()
        expired: list[Then] = []
        for job_id, waiting in list(self._callbacks.items()):
            expired += [then for deadline, then in waiting if deadline <= now]
            left = [(deadline, then) for deadline, then in waiting if deadline > now]
            if left:
                self._callbacks[job_id] = left
            else:
                del self._callbacks[job_id]
        return expired

    def _pause(self, longest: float) -> float:
        """How long the poll thread may rest: `longest`, or less when a callback's time is up sooner."""
        with self._lock:
            deadlines = [deadline for waiting in self._callbacks.values() for deadline, _ in waiting]
        return min([longest, *(max(0.0, d - time.monotonic()) for d in deadlines)])

    def _poll(self) -> None:
        while True:
            listener = self._listener
            listening = listener is not None and listener.listening.is_set()
            if listening:  # notices answer the waiters; read after a (re)connect, or as the fallback
                self._connected.wait(self._pause(self._fallback))
                self._connected.clear()
            with self._lock:
                expired = self._expired()
                ids = list(self._callbacks)
                if not ids:
                    self._thread = None
            for then in expired:
                _call(then, None)
            if not ids:
                return
            try:
                with self._uow() as tx:
                    self._found(tx.jobs.finished_among(ids))
            except Exception:  # the database is away: waiters time out and say the work is on its way
                pass
            if not listening:
                time.sleep(self._pause(self._interval))


def _call(then: Then, ended: Finished | None) -> None:
    """Run a callback on a watch thread: its failure is logged, and never stops the watch."""
    try:
        then(ended)
    except Exception:
        log.exception("a job-finished callback failed")
