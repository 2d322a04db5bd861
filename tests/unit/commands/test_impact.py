"""Detection and impact times as people type them, the order they must keep, and typed action items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from commands.errors import UsageError
from commands.impact import _check_order, parse_moment
from commands.parsing import (
    AddActionItem,
    Edit,
    MarkMitigated,
    SetIncidentTime,
    parse,
)
from commands.records import Incident

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 1, 13, 30, tzinfo=UTC)  # 14:30 in Berlin


def cmd(text: str) -> object:
    return parse(text, severities=["sev1", "sev2"])


def test_edit_and_mitigated_parse_to_their_commands() -> None:
    assert cmd("edit impact-started 14:05") == SetIncidentTime(field="impact_started", text="14:05")
    assert cmd("edit DETECTED 2026-03-01T14:20+01:00") == SetIncidentTime(
        field="detected", text="2026-03-01T14:20+01:00"
    )
    assert cmd("edit title New title") == Edit(title="New title")
    assert cmd("mitigated") == MarkMitigated()
    assert cmd("mitigated failed over to eu-west") == MarkMitigated(note="failed over to eu-west")
    with pytest.raises(UsageError, match="Give the time after `detected`"):
        cmd("edit detected")
    with pytest.raises(UsageError, match="`impact-started` or `detected`"):
        cmd("edit severity sev1")


def test_action_type_is_a_trailing_option_and_other_words_stay_text() -> None:
    assert cmd("action Add a canary type prevent p1") == AddActionItem(
        text="Add a canary", priority="p1", kind="prevent"
    )
    assert cmd("action Page faster p2 TYPE process") == AddActionItem(
        text="Page faster", priority="p2", kind="process"
    )
    assert cmd("action Fix the type checker") == AddActionItem(text="Fix the type checker")
    assert cmd("action Write up the type mitigate.") == AddActionItem(text="Write up the type mitigate.")


def test_hh_mm_is_today_in_the_zone_or_yesterday_when_not_reached_yet() -> None:
    assert parse_moment("14:05", NOW, BERLIN) == datetime(2026, 3, 1, 14, 5, tzinfo=BERLIN)
    assert parse_moment("14:30", NOW, BERLIN) == NOW, "this very minute has passed"
    assert parse_moment("9:00", NOW, BERLIN) == datetime(2026, 3, 1, 9, 0, tzinfo=BERLIN)
    assert parse_moment("23:50", NOW, BERLIN) == datetime(2026, 2, 28, 23, 50, tzinfo=BERLIN)


def test_iso_times_with_or_without_an_offset() -> None:
    assert parse_moment("2026-03-01T12:00:00Z", NOW, BERLIN) == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert parse_moment("2026-03-01 10:15", NOW, BERLIN) == datetime(2026, 3, 1, 10, 15, tzinfo=BERLIN)
    assert parse_moment("2026-02-27", NOW, BERLIN) == datetime(2026, 2, 27, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("2026-03-01T14:31+01:00", "is in the future"),
        ("2026-03-02", "is in the future"),
        ("25:00", "is not a time"),
        ("yesterday", "is not a time"),
        ("14:5", "is not a time"),
    ],
)
def test_future_and_unreadable_times_are_refused(text: str, problem: str) -> None:
    with pytest.raises(UsageError, match=problem):
        parse_moment(text, NOW, BERLIN)


def test_impact_cannot_start_after_detection_whichever_is_set_first() -> None:
    incident = Incident(title="t", severity="sev1", status="investigating", declared_by="U1", declared_at=NOW)
    incident.detected_at = NOW - timedelta(minutes=30)
    with pytest.raises(UsageError, match="Impact cannot start"):
        _check_order(incident, "impact_started", NOW - timedelta(minutes=10), BERLIN)
    _check_order(incident, "impact_started", NOW - timedelta(minutes=30), BERLIN)  # the same moment is fine
    incident.detected_at, incident.impact_started_at = None, NOW - timedelta(minutes=30)
    with pytest.raises(UsageError, match="before impact started"):
        _check_order(incident, "detected", NOW - timedelta(minutes=40), BERLIN)
