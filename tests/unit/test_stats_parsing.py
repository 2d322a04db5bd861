"""`/incident stats` periods and the digest's config: bad input is refused with a specific reason."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.ops.config import IncidentConfig
from commands.errors import UsageError
from commands.parsing import Stats, help_text, parse


@pytest.mark.parametrize(
    ("text", "days"), [("stats", 30), ("stats 7d", 7), ("STATS 90D", 90), ("stats 30d", 30)]
)
def test_stats_periods(text: str, days: int) -> None:
    assert parse(text, severities=["sev1"]) == Stats(days)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("stats 14d", "`14d` is not a period I report on: use 7d, 30d or 90d."),
        ("stats 7d 30d", "Give at most one period."),
        ("stats <!channel>", "is not a period I report on"),
    ],
)
def test_other_periods_are_refused(text: str, reason: str) -> None:
    with pytest.raises(UsageError) as refused:
        parse(text, severities=["sev1"])
    assert reason in refused.value.message and "/incident stats [7d|30d|90d]" in refused.value.message


def test_help_lists_stats() -> None:
    assert "/incident stats [7d|30d|90d]" in help_text()


def test_digest_config_is_checked_when_loaded() -> None:
    assert IncidentConfig().digest_channel is None
    assert IncidentConfig(digest_channel="  ").digest_channel is None
    assert IncidentConfig(digest_channel="#incident-digest").digest_channel == "#incident-digest"
    with pytest.raises(ValidationError, match="not a weekday and a time"):
        IncidentConfig(digest_channel="digest", digest_at="monday")
    with pytest.raises(ValidationError, match="not a time of day"):
        IncidentConfig(digest_at="mon 25:00")
    with pytest.raises(ValidationError, match="not a Slack channel name"):
        IncidentConfig(digest_channel="Incident Digest")
