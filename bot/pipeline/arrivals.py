"""Requests still being read and parsed: a group commit waits briefly for them to join its batch.

A burst's first declare used to commit alone, or with two or three others, while the rest of the burst
was still being parsed; the rest then queued behind that commit, whose round trips each waited for the
GIL the parsing held, and then behind one or two more commits of their own. Waiting while requests are
being parsed, or still arriving close together, lets one commit take the whole burst. A request that
arrives alone is not held back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Arrivals:
    """Count the requests between arriving and reaching their commit (or ending without one)."""

    def __init__(self) -> None:
        self._settled = threading.Condition()
        self._parsing = 0
        self._last = float("-inf")  # when the latest request arrived
        self._gap = float("inf")  # and how long after the one before it
        self._mine = threading.local()

    @contextmanager
    def arriving(self) -> Iterator[None]:
        """Around a request: counted until it settles, or until it ends."""
        now = time.monotonic()
        with self._settled:
            self._parsing += 1
            self._gap, self._last = now - self._last, now
        self._mine.held = True
        try:
            yield
        finally:
            self.settled()

    def settled(self) -> None:
        """This thread's request has reached its commit (or needs none): no batch waits for it any more."""
        if not getattr(self._mine, "held", False):
            return
        self._mine.held = False
        with self._settled:
            self._parsing -= 1
            if self._parsing == 0:
                self._settled.notify_all()

    def gather(self, cap: float, quiet: float) -> None:
        """Wait until no request is being parsed and none arrived for `quiet` s, `cap` s at most; no
        longer than its own parsing when the latest request came alone (none other within `quiet` s)."""
        deadline = time.monotonic() + cap
        with self._settled:
            while True:
                now = time.monotonic()
                if now >= deadline:
                    return
                if self._parsing > 0:
                    self._settled.wait(deadline - now)
                    continue
                still = self._last + quiet - now
                if self._gap > quiet or still <= 0:
                    return
                self._settled.wait(min(still, deadline - now))
