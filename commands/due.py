"""Due dates as people type them (`2026-12-04`, `today`, `fri`, `in 3d`) and the weekly reminder slot.

A due date is the end of that day in the configured zone, so "due friday" is overdue only once Friday is
over where the team works. Parsing checks the words; resolving needs the clock, and refuses the past.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from commands.errors import UsageError

WEEKDAYS: dict[str, int] = {
    "monday": 0,
    "mon": 0,
    "tuesday": 1,
    "tue": 1,
    "tues": 1,
    "wednesday": 2,
    "wed": 2,
    "thursday": 3,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "friday": 4,
    "fri": 4,
    "saturday": 5,
    "sat": 5,
    "sunday": 6,
    "sun": 6,
}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DURATION = re.compile(r"^(\d{1,3})(d|w)$")
MAX_AHEAD = timedelta(days=5 * 366)  # a due date further away than this is a typo, not a plan


@dataclass(frozen=True)
class DueSpec:
    """What was typed after `due`: a calendar date, a word (today, tomorrow, a weekday) or `in <n>d|w`."""

    date: date | None = None
    word: str | None = None
    days: int | None = None

    @property
    def shown(self) -> str:
        if self.date is not None:
            return self.date.isoformat()
        return self.word if self.word is not None else f"in {self.days}d"


def due_word(word: str) -> DueSpec | None:
    """One word after `due`: a date or a day's name; None when it is neither."""
    lowered = word.lower()
    if _ISO_DATE.match(lowered):
        try:
            return DueSpec(date=date.fromisoformat(lowered))
        except ValueError:
            raise UsageError(f"`{word}` is not a date on the calendar (YYYY-MM-DD).") from None
    if lowered in ("today", "tomorrow") or lowered in WEEKDAYS:
        return DueSpec(word=lowered)
    return None


def due_duration(word: str) -> DueSpec | None:
    """The word after `due in`: `3d` or `2w`; None when it is not one."""
    match = _DURATION.match(word.lower())
    if match is None:
        return None
    count = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
    return DueSpec(days=count)


def end_of_day(day: date, zone: tzinfo) -> datetime:
    """The last second of `day` where the team works."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=zone)


def resolve_due(spec: DueSpec, now: datetime, zone: tzinfo) -> datetime:
    """The moment an item is due; raises UsageError for a day already over or absurdly far away.

    A weekday's name is the next such day after today (`today` names today).
    """
    today = now.astimezone(zone).date()
    if spec.date is not None:
        day = spec.date
    elif spec.days is not None:
        day = today + timedelta(days=spec.days)
    elif spec.word == "today":
        day = today
    elif spec.word == "tomorrow":
        day = today + timedelta(days=1)
    else:
        ahead = (WEEKDAYS[spec.word or ""] - today.weekday() - 1) % 7 + 1
        day = today + timedelta(days=ahead)
    due = end_of_day(day, zone)
    if due < now:
        raise UsageError(f"{day.isoformat()} is already over: give a due date from today on.")
    if due - now > MAX_AHEAD:
        raise UsageError(f"{day.isoformat()} is more than five years away: check the due date.")
    return due


@dataclass(frozen=True)
class WeeklySlot:
    """A weekday and a time of day in a zone: when overdue action items are sent to their owners."""

    weekday: int
    at: time

    @classmethod
    def parse(cls, text: str) -> WeeklySlot:
        """Read `mon 09:00`; raises ValueError naming what is wrong."""
        parts = text.lower().split()
        if len(parts) != 2 or parts[0] not in WEEKDAYS:
            raise ValueError(f"{text!r} is not a weekday and a time, like 'mon 09:00'")
        try:
            at = time.fromisoformat(parts[1])
        except ValueError:
            raise ValueError(f"{parts[1]!r} is not a time of day, like '09:00'") from None
        return cls(WEEKDAYS[parts[0]], at.replace(second=0, microsecond=0))

    def first_after(self, moment: datetime, zone: tzinfo) -> datetime:
        """The first slot strictly after `moment` (local wall time, so a DST change keeps 09:00 at 09:00)."""
        local = moment.astimezone(zone)
        day = local.date() + timedelta(days=(self.weekday - local.weekday()) % 7)
        candidate = datetime.combine(day, self.at, tzinfo=zone)
        if candidate <= local:
            candidate = datetime.combine(day + timedelta(days=7), self.at, tzinfo=zone)
        return candidate
