"""The Slack jobs this process has claimed and will run, so their leases are renewed until they end."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

# A claimed job that never starts (its hand-off to a worker was lost) stops being renewed after this long,
# so its lease runs out and another process resumes it; a job that is running is renewed for as long as
# it runs (a 429 with a long Retry-After must not let a second process run it too).
MAX_QUEUED_SECONDS = 600.0


class JobHoldings:
    """Thread-safe set of held job ids, named by the process identity written in `claimed_by`."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self._lock = threading.Lock()
        self._queued: dict[int, float] = {}
        self._running: set[int] = set()
        self._again: set[int] = set()  # claimed anew while running here: run again once this run ends

    def hold(self, job_ids: Iterable[int]) -> None:
        """Record jobs this process committed as claimed (it will run them)."""
        now = time.monotonic()
        with self._lock:
            for job_id in job_ids:
                if job_id not in self._running:
                    self._queued.setdefault(job_id, now)

    def start(self, job_id: int) -> bool:
        """Mark a job as running here; False when it already is (a second copy must not run it).

        The refused copy was claimed for a reason (woken, or swept): the running one is asked to go again.
        """
        with self._lock:
            if job_id in self._running:
                self._again.add(job_id)
                return False
            self._queued.pop(job_id, None)
            self._running.add(job_id)
            return True

    def drop(self, job_id: int) -> bool:
        """The job ended here (done, failed, deferred or handed back): stop renewing it.

        Returns True when it was claimed again meanwhile and must be run once more.
        """
        with self._lock:
            self._queued.pop(job_id, None)
            self._running.discard(job_id)
            if job_id in self._again:
                self._again.discard(job_id)
                return True
            return False

    def renewable(self) -> list[int]:
        """The jobs whose leases should be extended now."""
        cutoff = time.monotonic() - MAX_QUEUED_SECONDS
        with self._lock:
            stale = [job_id for job_id, at in self._queued.items() if at < cutoff]
            for job_id in stale:
                del self._queued[job_id]
            return sorted(self._running | self._queued.keys())
