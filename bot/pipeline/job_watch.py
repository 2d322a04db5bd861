"""Wait for jobs a worker process runs, so a web replica's replies say what actually happened.

One thread reads the finished state of every awaited job in one query, however many replies are
waiting; it runs only while someone waits. On PostgreSQL it reads only when a worker says a job finished
(LISTEN on its own connection), at most once per interval, with a slow read as the fallback for a notice
lost while the listener reconnects; elsewhere it reads once per interval.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from store.uow import SqlUnitOfWork

POLL_SECONDS = 0.1
# While listening, a read happens at least this often anyway: a notice can be lost in a reconnect.
FALLBACK_SECONDS = 1.0


class Listener(Protocol):
    """A LISTEN on the job-finished channel (store.notify.JobListener), calling back on each notice."""

    listening: threading.Event

    def start(self) -> None: ...

    def stop(self) -> None: ...


# Starts listening with the given callback; None where the database has no notices (SQLite).
ListenerFactory = Callable[[Callable[[], None]], Listener]


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
        self._notice = threading.Event()
        self._fallback = fallback
        self._lock = threading.Lock()
        self._waiting: dict[int, threading.Event] = {}
        self._finished: dict[int, Finished] = {}
        self._thread: threading.Thread | None = None

    def wait(self, job_id: int, timeout: float) -> Finished | None:
        """How the job ended once some worker finished it; None if it did not within `timeout`."""
        with self._lock:
            event = self._waiting.setdefault(job_id, threading.Event())
            if self._listener is None and self._listen is not None:  # kept for the process's life
                self._listener = self._listen(self._notice.set)
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

    def _poll(self) -> None:
        while True:
            with self._lock:
                ids = list(self._waiting)
                if not ids:
                    self._thread = None
                    return
                listener = self._listener
            listening = listener is not None and listener.listening.is_set()
            self._notice.clear()  # before the read: a job finishing during it wakes the next one
            try:
                with self._uow() as tx:
                    finished = tx.jobs.finished_among(ids)
            except Exception:  # the database is away: waiters time out and say the work is on its way
                finished = {}
            with self._lock:
                for job_id, (gave_up, channel) in finished.items():
                    event = self._waiting.get(job_id)
                    if event is not None:
                        self._finished[job_id] = Finished(gave_up, channel)
                        event.set()
            time.sleep(self._interval)
            if listening:
                self._notice.wait(self._fallback)
