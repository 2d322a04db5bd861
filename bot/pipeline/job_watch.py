"""Wait for jobs a worker process runs, so a web replica's replies say what actually happened.

On PostgreSQL a worker finishing a job sends a notice saying how it ended and where its room is (LISTEN
on the watch's own connection), so a waiting reply is answered without reading anything; a read of every
awaited job in one query covers what a notice cannot: jobs that finished before the listener was in place
(on each connect) and, as a slow fallback, a notice lost in a reconnect. Elsewhere (SQLite, or while the
listener is away) one thread reads every awaited job in one query per interval, however many replies
wait; it runs only while someone waits.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from store.notify import finished_notice
from store.uow import SqlUnitOfWork

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


class JobWatch:
    """Block callers until their job is finished by some worker, or until their timeout."""

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
        self._waiting: dict[int, threading.Event] = {}
        self._finished: dict[int, Finished] = {}
        self._heard: OrderedDict[int, Finished] = OrderedDict()
        self._thread: threading.Thread | None = None

    def wait(self, job_id: int, timeout: float) -> Finished | None:
        """How the job ended once some worker finished it; None if it did not within `timeout`."""
        with self._lock:
            heard = self._heard.get(job_id)
            if heard is not None:
                return heard
            event = self._waiting.setdefault(job_id, threading.Event())
            if self._listener is None and self._listen is not None:  # kept for the process's life
                self._listener = self._listen(self._connected.set, self._hear)
                self._listener.start()
            if self._thread is None:
                self._thread = threading.Thread(target=self._poll, name="incidentbot-job-watch", daemon=True)
                self._thread.start()
        event.wait(timeout)
        with self._lock:
            if self._waiting.get(job_id) is event:
                del self._waiting[job_id]
            return self._finished.pop(job_id, None) if event.is_set() else None

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
        with self._lock:
            for job_id, (gave_up, channel) in finished.items():
                ended = Finished(gave_up, channel)
                if remember:
                    self._heard[job_id] = ended
                    if len(self._heard) > REMEMBERED:
                        self._heard.popitem(last=False)
                event = self._waiting.get(job_id)
                if event is not None and not event.is_set():
                    self._finished[job_id] = ended
                    event.set()

    def _poll(self) -> None:
        while True:
            listener = self._listener
            listening = listener is not None and listener.listening.is_set()
            if listening:  # notices answer the waiters; read after a (re)connect, or as the fallback
                self._connected.wait(self._fallback)
                self._connected.clear()
            with self._lock:
                ids = [job_id for job_id, event in self._waiting.items() if not event.is_set()]
                if not ids:
                    self._thread = None
                    return
            try:
                with self._uow() as tx:
                    self._found(tx.jobs.finished_among(ids))
            except Exception:  # the database is away: waiters time out and say the work is on its way
                pass
            if not listening:
                time.sleep(self._interval)
