"""Wait for jobs a worker process runs, so a web replica's replies say what actually happened.

One thread reads the finished state of every awaited job in one query per interval, however many
replies are waiting; it runs only while someone waits.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from store.uow import SqlUnitOfWork

POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Finished:
    """How a job ended, read by the watch's one query: given up or not, and its incident's room."""

    gave_up: bool
    channel_id: str | None


class JobWatch:
    """Block callers until their job is finished by some worker, or until their timeout."""

    def __init__(self, uow: Callable[[], SqlUnitOfWork], interval: float = POLL_SECONDS) -> None:
        self._uow = uow
        self._interval = interval
        self._lock = threading.Lock()
        self._waiting: dict[int, threading.Event] = {}
        self._finished: dict[int, Finished] = {}
        self._thread: threading.Thread | None = None

    def wait(self, job_id: int, timeout: float) -> Finished | None:
        """How the job ended once some worker finished it; None if it did not within `timeout`."""
        with self._lock:
            event = self._waiting.setdefault(job_id, threading.Event())
            if self._thread is None:
                self._thread = threading.Thread(target=self._poll, name="incidentbot-job-watch", daemon=True)
                self._thread.start()
        event.wait(timeout)
        with self._lock:
            if self._waiting.get(job_id) is event:
                del self._waiting[job_id]
            return self._finished.pop(job_id, None) if event.is_set() else None

    def _poll(self) -> None:
        while True:
            with self._lock:
                ids = list(self._waiting)
                if not ids:
                    self._thread = None
                    return
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
