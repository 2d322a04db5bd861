"""Bounds on what one person can make the bot do, so a script cannot page or declare without end."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from commands.errors import IncidentError, UsageError


@dataclass(frozen=True)
class RateLimit:
    """At most `count` in any `window`."""

    count: int
    window: timedelta

    def __str__(self) -> str:
        return f"{self.count} per {_short(self.window)}"


class RateLimited(IncidentError):
    """The person has used up their declares for now; nothing was recorded."""


def check_page_count(count: int, limit: int) -> None:
    """Raise UsageError, naming the limit, when one escalate would page more than `limit` people."""
    if count > limit:
        raise UsageError(
            f"That would page {count} people; one escalation may page at most {limit} "
            "(`max_paged_per_command`), so nothing was changed. Page fewer people or groups at a time."
        )


class DeclareAllowance:
    """How many more declares each person may make now, counted from the database across replicas.

    Built from `IncidentStore.declares_since` (read inside the declare transaction, under a lock that
    serialises declares by the same people on every replica), with the batch's own declares added as
    they are admitted: neither a group commit nor a script spread over replicas gets one person past it.
    """

    def __init__(self, used: Mapping[str, tuple[int, datetime]], now: datetime, limit: RateLimit) -> None:
        self._limit, self._now = limit, now
        self._used: dict[str, int] = {user: count for user, (count, _) in used.items()}
        self._oldest: dict[str, datetime] = {user: oldest for user, (_, oldest) in used.items()}

    def take(self, user: str) -> RateLimited | None:
        """Count one declare for `user`; the refusal to give them instead when they are over the limit."""
        used = self._used.get(user, 0)
        if used < self._limit.count:
            self._used[user] = used + 1
            self._oldest.setdefault(user, self._now)
            return None
        wait = self._oldest.get(user, self._now) + self._limit.window - self._now
        window = _short(self._limit.window)
        return RateLimited(
            f":no_entry: You have declared {used} incidents in the last {window}, the most one person may "
            f"(`declare_rate_limit`: {self._limit}), so nothing was declared. "
            f"Try again in {_short(max(wait, timedelta(seconds=1)))}."
        )

    def give_back(self, user: str) -> None:
        """Undo a `take` for a delivery that turned out to be a repeat (it declares nothing)."""
        self._used[user] -= 1


def _short(value: timedelta) -> str:
    """'1m', '90s', '1h': as operators write durations in the config."""
    total = max(1, round(value.total_seconds()))
    for unit, size in (("h", 3600), ("m", 60)):
        if total % size == 0:
            return f"{total // size}{unit}"
    return f"{total}s"
