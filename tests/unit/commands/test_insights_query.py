"""What a report asks the store: the period, Monday midnights in the configured zone, the targets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.ops.config import IncidentConfig
from commands.insights import Share, build_query, week_starts

BERLIN = ZoneInfo("Europe/Berlin")


def test_weeks_start_at_monday_midnight_local_time_across_a_clock_change() -> None:
    # Summer time starts in Berlin on Sunday 29 March 2026: that week is an hour shorter in UTC.
    since = datetime(2026, 3, 25, 12, tzinfo=UTC)  # a Wednesday
    until = datetime(2026, 4, 7, tzinfo=UTC)
    starts = week_starts(since, until, BERLIN)
    assert [s.astimezone(UTC) for s in starts] == [
        datetime(2026, 3, 22, 23, tzinfo=UTC),  # Monday 23 March 00:00 CET
        datetime(2026, 3, 29, 22, tzinfo=UTC),  # Monday 30 March 00:00 CEST
        datetime(2026, 4, 5, 22, tzinfo=UTC),
    ]
    assert starts[1] - starts[0] == timedelta(days=7) and starts[1].utcoffset() == timedelta(hours=2)


def test_a_period_starting_on_monday_midnight_has_that_week_first() -> None:
    since = datetime(2026, 3, 2, tzinfo=UTC)
    assert week_starts(since, since + timedelta(days=7), ZoneInfo("UTC")) == (since,)


def test_the_query_carries_each_severitys_targets_and_the_default_ones_for_others() -> None:
    config = IncidentConfig.model_validate(
        {
            "severities": {
                "sev1": {"update_every": "15m", "acknowledge_within": "5m"},
                "sev2": {"update_every": "30m", "resolve_within": "1d"},
            }
        }
    )
    now = datetime(2026, 3, 16, tzinfo=UTC)
    query = build_query(since=now - timedelta(days=30), until=now, now=now, settings=config)
    assert query.targets == {
        "sev1": {"acknowledge_within": timedelta(minutes=5)},
        "sev2": {"resolve_within": timedelta(days=1)},
    }
    # Like every other setting, a severity no longer configured falls back to the least severe one.
    assert query.fallback_targets == {"resolve_within": timedelta(days=1)}
    assert query.target_names == ("acknowledge_within", "mitigate_within", "resolve_within")


def test_an_empty_or_reversed_period_is_refused() -> None:
    now = datetime(2026, 3, 16, tzinfo=UTC)
    with pytest.raises(ValueError, match="the period is empty"):
        build_query(since=now, until=now, now=now, settings=IncidentConfig())


def test_a_share_is_none_when_there_was_nothing_to_count() -> None:
    assert Share(0, 0).rate is None
    assert Share(1, 3).rate == 0.3333
