"""The hand-off between a listener waiting (within a budget) for a commit and the thread making it."""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class Handoff(Generic[T]):
    """Whoever finishes second carries on: the listener when the commit came in time, else the committer.

    The committing thread calls `finish`; the listener calls `wait`. Exactly one of them sees the other
    already done, so what follows the commit (provisioning, posting, the late confirmation) starts once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._result: T | Exception | None = None
        self._late = False

    def finish(self, result: T | Exception) -> bool:
        """Hand off the commit's result; True when the listener has already answered without it."""
        with self._lock:
            self._result = result
            self._done.set()
            return self._late

    def wait(self, budget: float) -> tuple[bool, T | Exception | None]:
        """Wait up to `budget` s: (True, result) in time, else (False, None) and the committer goes on."""
        self._done.wait(budget)
        with self._lock:
            if not self._done.is_set():
                self._late = True
                return False, None
            return True, self._result
