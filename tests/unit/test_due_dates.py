"""Due dates resolve to the end of the day in the configured zone; the weekly slot keeps local time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from commands.due import DueSpec, WeeklySlot, resolve_due
from commands.errors import UsageError

BERLIN = ZoneInfo("Europe/Berlin")
# Wednesday 2026-12-02, 23:30 in Berlin (22:30 UTC).
NOW = datetime(2026, 12, 2, 22, 30, tzinfo=UTC)


def test_words_dates_and_durations_are_the_end_of_that_day_in_the_zone() -> None:
    assert resolve_due(DueSpec(word="today"), NOW, BERLIN) == datetime(2026, 12, 2, 23, 59, 59, tzinfo=BERLIN)
    assert resolve_due(DueSpec(word="tomorrow"), NOW, BERLIN).date() == date(2026, 12, 3)
    assert resolve_due(DueSpec(word="wed"), NOW, BERLIN).date() == date(2026, 12, 9), (
        "a weekday is after today"
    )
    assert resolve_due(DueSpec(word="friday"), NOW, BERLIN).date() == date(2026, 12, 4)
    assert resolve_due(DueSpec(days=3), NOW, BERLIN).date() == date(2026, 12, 5)
    # In UTC it is still Wednesday too, but in Tokyo it is Thursday already: "today" follows the zone.
    assert resolve_due(DueSpec(word="today"), NOW, ZoneInfo("Asia/Tokyo")).date() == date(2026, 12, 3)


def test_a_day_already_over_or_years_away_is_refused() -> None:
    with pytest.raises(UsageError, match="already over"):
        resolve_due(DueSpec(date=date(2026, 12, 1)), NOW, BERLIN)
    with pytest.raises(UsageError, match="five years"):
        resolve_due(DueSpec(date=date(2036, 1, 1)), NOW, BERLIN)


def test_the_weekly_slot_is_local_time_across_a_dst_change() -> None:
    slot = WeeklySlot.parse("mon 09:00")
    first = slot.first_after(datetime(2026, 3, 25, tzinfo=UTC), BERLIN)  # before the spring change
    assert first == datetime(2026, 3, 30, 9, 0, tzinfo=BERLIN) and first.utcoffset().total_seconds() == 7200
    assert slot.first_after(first, BERLIN) == datetime(2026, 4, 6, 9, 0, tzinfo=BERLIN)
    for bad in ("monday", "funday 09:00", "mon 25:00"):
        with pytest.raises(ValueError):
            WeeklySlot.parse(bad)
