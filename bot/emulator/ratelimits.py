"""Realistic rate limits (off by default): Slack's per-method tiers and chat.postMessage's per-channel pace.

https://docs.slack.dev/apis/web-api/rate-limits: limits are per method, per workspace, per app. Tier 1
allows about 1 call a minute, Tier 2 20, Tier 3 50, Tier 4 100, and "bursts" are tolerated;
chat.postMessage allows about one message per second per channel, with short bursts. Beyond that Slack
answers HTTP 429 `{"ok": false, "error": "ratelimited"}` with a `Retry-After` header in seconds.

Modelled as rolling windows, so a test can predict them: a tiered method takes at most its per-minute
number in any 60 seconds (all at once if the client likes: that is the burst); chat.postMessage takes
at most POST_BURST messages per channel in any POST_BURST seconds (one a second on average).
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
# Tier of each method, from the method reference pages. "Special" methods other than chat.postMessage
# (auth.test, chat.getPermalink) are held to Tier 4 here.
METHOD_TIERS: dict[str, int] = {
    "auth.test": 4,
    "apps.connections.open": 3,
    "conversations.archive": 2,
    "conversations.create": 2,
    "conversations.history": 3,
    "conversations.info": 3,
    "conversations.invite": 3,
    "conversations.join": 3,
    "conversations.list": 2,
    "conversations.members": 4,
    "conversations.open": 3,
    "conversations.rename": 2,
    "conversations.replies": 3,
    "conversations.setPurpose": 2,
    "conversations.setTopic": 2,
    "chat.getPermalink": 4,
    "chat.postEphemeral": 4,
    "chat.update": 3,
    "files.completeUploadExternal": 4,
    "files.getUploadURLExternal": 4,
    "pins.add": 2,
    "reactions.add": 3,
    "usergroups.list": 2,
    "usergroups.users.list": 2,
    "users.info": 4,
    "users.list": 2,
    "views.open": 4,
    "views.publish": 4,
    "views.push": 4,
    "views.update": 4,
}
WINDOW = 60.0
POST_METHOD = "chat.postMessage"
POST_BURST = 3  # messages per channel in any POST_BURST seconds


class RateLimiter:
    """Rolling-window limits per method (per channel for chat.postMessage), off until enabled."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = False
        self.clock = clock
        self.served: Counter[str] = Counter()  # 429s answered, per method (realistic and injected)
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, method: str, args: dict[str, Any]) -> int | None:
        """Record a call and return None, or return the Retry-After seconds when it is over the limit."""
        if not self.enabled:
            return None
        if method == POST_METHOD:
            key, limit, window = f"{method}:{args.get('channel', '')}", POST_BURST, float(POST_BURST)
        elif method in METHOD_TIERS:
            key, limit, window = method, TIER_PER_MINUTE[METHOD_TIERS[method]], WINDOW
        else:
            return None
        now = self.clock()
        with self._lock:
            calls = self._calls.setdefault(key, deque())
            while calls and calls[0] <= now - window:
                calls.popleft()
            if len(calls) >= limit:
                return max(1, math.ceil(calls[0] + window - now))
            calls.append(now)
            return None

    def count(self, method: str) -> None:
        """Count one 429 answered for `method`."""
        with self._lock:
            self.served[method] += 1

    def reset(self) -> None:
        """Forget every window and counter."""
        with self._lock:
            self._calls.clear()
            self.served.clear()
