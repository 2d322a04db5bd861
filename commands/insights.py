"""Figures across incidents (docs/metrics.md defines each): what a report asks for and what it gets back.

The store computes them in SQL (store/insights.py); reports, `/incident stats`, the digest and App Home
all read this one shape, so the numbers agree wherever they are shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

# The percentiles reported for each duration; nearest rank, so each is a duration some incident took.
PERCENTILES = (50, 90)
WEEK = timedelta(days=7)
# Each target is measured on one milestone column (commands/milestones.py says when each is set).
TARGET_MILESTONES = {
    "acknowledge_within": "acknowledged_at",
    "mitigate_within": "mitigated_at",
    "resolve_within": "resolved_at",
}


@dataclass(frozen=True)
class InsightsQuery:
    """The period [since, until), the report's clock, the week starts and the targets per severity."""

    since: datetime
    until: datetime
    now: datetime
    # Monday 00:00 in the configured zone of every week that overlaps the period, oldest first.
    week_starts: tuple[datetime, ...]
    # Per severity: target name -> target; severities the config no longer knows get `fallback_targets`.
    targets: Mapping[str, Mapping[str, timedelta]]
    fallback_targets: Mapping[str, timedelta]
    target_names: tuple[str, ...]


@dataclass(frozen=True)
class Durations:
    """How long incidents took to reach one milestone, over those that reached it (whole seconds)."""

    count: int
    p50_s: int | None
    p90_s: int | None
    mean_s: float | None


@dataclass(frozen=True)
class Share:
    """`part` of `whole`, kept as counts so a rate can always be checked against what it is made of."""

    part: int
    whole: int

    @property
    def rate(self) -> float | None:
        """The share as a fraction rounded to four places; None when there was nothing to count."""
        return round(self.part / self.whole, 4) if self.whole else None


@dataclass(frozen=True)
class ActionItemCounts:
    """The period's incidents' action items as they stand at the report's clock."""

    open: int
    done: int
    overdue: int


@dataclass(frozen=True)
class WeekRow:
    """One calendar week (Monday, configured zone) of the period: its incidents and how they went."""

    week_start: date
    incidents: int
    by_severity: dict[str, int]
    time_to_resolve_p50_s: int | None
    within_target: Share


@dataclass(frozen=True)
class Insights:
    """Every figure of a report over one period; see docs/metrics.md for the definitions."""

    since: datetime
    until: datetime
    generated_at: datetime
    incidents: int
    still_open: int
    drills: int
    duplicates: int
    by_severity: dict[str, int]
    by_type: dict[str, int]
    by_service: dict[str, int]
    time_to_acknowledge: Durations
    time_to_mitigate: Durations
    time_to_resolve: Durations
    within_target: dict[str, Share]
    escalated: Share
    update_adherence: Share
    reopened: Share
    action_items: ActionItemCounts
    weekly: list[WeekRow] = field(default_factory=list)


class InsightsReader(Protocol):
    """Where the figures come from: the SQL store, or a fake in tests."""

    def read(self, query: InsightsQuery) -> Insights:
        """Compute every figure for the query's period."""
        ...


def week_starts(since: datetime, until: datetime, zone: ZoneInfo) -> tuple[datetime, ...]:
    """Monday 00:00 (in `zone`, as people's calendars say) of each week overlapping [since, until)."""
    local = since.astimezone(zone).date()
    day = local - timedelta(days=local.weekday())
    starts: list[datetime] = []
    while True:
        start = datetime.combine(day, time(), tzinfo=zone)
        if start >= until:
            break
        starts.append(start)
        day += WEEK
    return tuple(starts)


class TargetSettings(Protocol):
    """What a report needs from the config: the severities, their targets and the zone weeks start in."""

    def severity_names(self) -> list[str]: ...

    def targets(self, severity: str) -> dict[str, timedelta]: ...

    @property
    def default_severity(self) -> str: ...

    @property
    def zone(self) -> ZoneInfo: ...


def build_query(
    *, since: datetime, until: datetime, now: datetime, settings: TargetSettings
) -> InsightsQuery:
    """The query for [since, until) with the configured targets; raises ValueError on an empty period."""
    if since.tzinfo is None or until.tzinfo is None:
        raise ValueError("the period's bounds must be timezone-aware")
    if since >= until:
        raise ValueError("the period is empty: its start must come before its end")
    return InsightsQuery(
        since=since,
        until=until,
        now=now,
        week_starts=week_starts(since, until, settings.zone),
        targets={name: settings.targets(name) for name in settings.severity_names()},
        # A severity no longer configured is treated like the default one, as everywhere else.
        fallback_targets=settings.targets(settings.default_severity),
        target_names=tuple(TARGET_MILESTONES),
    )
