"""Replicas' ticks released together, as the claim tests race them on every backend."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def race(run: Callable[[], T], replicas: int = 2) -> list[T]:
    """Run `run` on `replicas` threads released together; what each returned, any error raised here."""
    barrier = threading.Barrier(replicas)
    lock = threading.Lock()
    results: list[T] = []
    errors: list[BaseException] = []

    def replica() -> None:
        try:
            barrier.wait(timeout=10)
            result = run()
        except BaseException as exc:  # surfaced on the test's own thread below
            errors.append(exc)
            return
        with lock:
            results.append(result)

    threads = [threading.Thread(target=replica) for _ in range(replicas)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads), "a replica did not finish within 60 s"
    return results
