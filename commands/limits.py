"""Bounds on what one person can make the bot do, so a script cannot page or declare without end."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import false, func, select, text, update
from sqlalchemy.orm import Session

from commands.errors import IncidentError, UsageError
from store.models import Incident

# The first key of the advisory locks taken per declaring person, apart from any other lock's keys.
_LOCK_SPACE = 0x1DEC


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

    Read inside the declare transaction, after taking a lock that serialises declares by the same
    people on every replica, with the batch's own declares added as they are admitted: neither a group
    commit nor a script spread over replicas gets one person past the limit.
    """

    def __init__(self, session: Session, users: Collection[str], now: datetime, limit: RateLimit) -> None:
        self._limit, self._now = limit, now
        since = now - limit.window
        people = sorted(set(users))  # one order everywhere: no deadlock between batches
        _serialise(session, people)
        rows = session.execute(
            select(Incident.declared_by, func.count(), func.min(Incident.declared_at))
            .where(Incident.declared_by.in_(people), Incident.declared_at > since)
            .group_by(Incident.declared_by)
        )
        self._used: dict[str, int] = {}
        self._oldest: dict[str, datetime] = {}
        for user, count, oldest in rows:
            self._used[user], self._oldest[user] = int(count), oldest

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


def _serialise(session: Session, people: Sequence[str]) -> None:
    """Hold, until commit, a lock per person (PostgreSQL) or the write lock (SQLite), before counting.

    Without it two replicas' transactions could each count the same earlier declares and both insert.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(
            text(
                "SELECT pg_advisory_xact_lock(:space, hashtext(p)) FROM unnest(CAST(:people AS text[])) AS p"
            ),
            {"space": _LOCK_SPACE, "people": list(people)},
        )
    elif dialect == "sqlite":  # a write that matches nothing still takes the database's write lock
        session.execute(update(Incident).where(false()).values(id=Incident.id))


def _short(value: timedelta) -> str:
    """'1m', '90s', '1h': as operators write durations in the config."""
    total = max(1, round(value.total_seconds()))
    for unit, size in (("h", 3600), ("m", 60)):
        if total % size == 0:
            return f"{total // size}{unit}"
    return f"{total}s"
