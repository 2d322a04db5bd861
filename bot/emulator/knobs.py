"""Fault and latency injection: answers the emulator gives on purpose, whatever the request."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class Fault:
    """One injected failure; `remaining=None` means until cleared."""

    method: str
    remaining: int | None
    status: int
    error: str
    retry_after: int | None = None


class Knobs:
    """Latency and fault injection, guarded by the state's lock but never slept under it."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._latency: dict[str | None, float] = {}
        self._faults: list[Fault] = []

    def set_latency(self, seconds: float, method: str | None) -> None:
        """Delay answers to `method` (or all methods when None); 0 removes the delay."""
        with self._lock:
            if seconds > 0:
                self._latency[method] = seconds
            else:
                self._latency.pop(method, None)

    def add(self, fault: Fault) -> None:
        """Queue a fault; queued faults for a method fire in insertion order."""
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        """Drop every fault and latency setting."""
        with self._lock:
            self._faults.clear()
            self._latency.clear()

    def take(self, method: str) -> tuple[float, Fault | None]:
        """Return (delay, fault) for this request, consuming one use of the matching fault."""
        with self._lock:
            delay = self._latency.get(method, self._latency.get(None, 0.0))
            for fault in self._faults:
                if fault.method in (method, "*"):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining <= 0:
                            self._faults.remove(fault)
                    return delay, fault
            return delay, None
