"""A report's figures in SQL (aggregates and window functions), the same on SQLite and PostgreSQL.

Every duration is whole seconds between two timestamps each truncated to the second, and every rate is
returned as the two integer counts it is made of, so neither backend's float or numeric arithmetic can make
the figures differ. Percentiles are nearest-rank (the value at rank ceil(p/100 * n) in ascending order),
found with ROW_NUMBER() and COUNT() over a window because SQLite has no percentile_cont.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import CTE

from commands.insights import (
    PERCENTILES,
    TARGET_MILESTONES,
    ActionItemCounts,
    Durations,
    Insights,
    InsightsQuery,
    Share,
    WeekRow,
)
from store.models import action_items, incidents, timeline_events

# The label of the whole period among the weekly buckets (weeks are numbered from 0).
WHOLE = -1
# The `by_type` / `by_service` key of incidents without a type or without any service.
NONE_KEY = "(none)"
_MILESTONES = {"acknowledged_at": "ack_s", "mitigated_at": "mit_s", "resolved_at": "res_s"}


def _epoch(column: Any, dialect: str) -> ColumnElement[int]:
    """Seconds since 1970 of a stored UTC timestamp, truncated: integers compare alike on both backends."""
    if dialect == "sqlite":
        # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC); both read it and drop the fraction.
        return func.unixepoch(column) if sqlite3.sqlite_version_info >= (3, 38) else _strftime_epoch(column)
    return cast(func.floor(func.extract("epoch", column)), Integer)


def _strftime_epoch(column: Any) -> ColumnElement[int]:
    """unixepoch() for SQLite before 3.38: the same integer, about three times slower."""
    return cast(func.strftime(literal_column("'%s'"), column), Integer)


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def _week_of(query: InsightsQuery) -> ColumnElement[int]:
    """The week (0 = the first) an incident's declaration falls in, against the zone's Monday midnights.

    A balanced tree of CASEs: about log2(weeks) comparisons per incident, even over a period of years.
    """

    def pick(first: int, last: int) -> ColumnElement[int]:
        if first == last:
            return literal(first, Integer)
        middle = (first + last + 1) // 2
        below = incidents.c.declared_at < query.week_starts[middle]
        return case((below, pick(first, middle - 1)), else_=pick(middle, last))

    return pick(0, len(query.week_starts) - 1)


def _target_seconds(query: InsightsQuery, name: str) -> ColumnElement[Any]:
    """The incident's target in seconds, from its severity (the fallback's for a severity since removed)."""
    whens: list[tuple[ColumnElement[bool], Any]] = [
        (incidents.c.severity == severity, int(targets[name].total_seconds()))
        for severity, targets in query.targets.items()
        if name in targets
    ]
    fallback = query.fallback_targets.get(name)
    else_: Any = null() if fallback is None else literal(int(fallback.total_seconds()), Integer)
    known = list(query.targets)
    if known:
        whens.append((incidents.c.severity.in_(known), null()))
    # Typed: a CASE of NULLs alone would be text to PostgreSQL, which then refuses to compare it.
    return cast(case(*whens, else_=else_) if whens else else_, Integer)


def _cohort(query: InsightsQuery, dialect: str) -> CTE:
    """The period's incidents that count (no drills, no duplicates), with durations, week and targets."""
    declared = _epoch(incidents.c.declared_at, dialect)
    columns: list[Any] = [
        incidents.c.id,
        incidents.c.severity,
        incidents.c.incident_type,
        incidents.c.services,
        declared.label("declared_s"),
        _week_of(query).label("week"),
    ]
    for milestone, label in _MILESTONES.items():
        columns.append((_epoch(incidents.c[milestone], dialect) - declared).label(label))
    columns += [_target_seconds(query, name).label(f"{name}_s") for name in query.target_names]
    return (
        select(*columns)
        .where(
            incidents.c.declared_at >= query.since,
            incidents.c.declared_at < query.until,
            incidents.c.drill.is_(False),
            incidents.c.duplicate_of.is_(None),
        )
        .cte("cohort")
    )


def _counted(query: InsightsQuery) -> CTE:
    """Just the ids of the period's counted incidents, for reads that need nothing else of them."""
    return (
        select(incidents.c.id)
        .where(
            incidents.c.declared_at >= query.since,
            incidents.c.declared_at < query.until,
            incidents.c.drill.is_(False),
            incidents.c.duplicate_of.is_(None),
        )
        .cte("counted")
    )


def _counts(query: InsightsQuery) -> Select[*tuple[Any, ...]]:
    """Counted incidents, those still open, drills and duplicates among all declared in the period."""
    counted = and_(incidents.c.drill.is_(False), incidents.c.duplicate_of.is_(None))
    return select(
        func.count(case((counted, 1))),
        func.count(case((and_(counted, incidents.c.resolved_at.is_(None)), 1))),
        func.count(case((incidents.c.drill.is_(True), 1))),
        func.count(case((and_(incidents.c.drill.is_(False), incidents.c.duplicate_of.is_not(None)), 1))),
    ).where(incidents.c.declared_at >= query.since, incidents.c.declared_at < query.until)


def _breakdowns(cohort: CTE, dialect: str) -> Select[*tuple[Any, ...]]:
    """(dimension, week, key, incidents) rows: by severity, type and service, and severity per week."""
    c = cohort.c
    if dialect == "sqlite":
        service = func.json_each(c.services).table_valued("value").alias("service")
    else:
        service = func.json_array_elements_text(c.services).table_valued("value").alias("service")
    no_service = func.json_array_length(c.services) == 0
    parts = [
        select(literal("severity"), literal(WHOLE), c.severity, func.count()).group_by(c.severity),
        select(literal("type"), literal(WHOLE), c.incident_type, func.count()).group_by(c.incident_type),
        select(literal("service"), literal(WHOLE), cast(service.c.value, String), func.count())
        .select_from(cohort.join(service, literal(True)))
        .group_by(cast(service.c.value, String)),
        select(literal("service"), literal(WHOLE), cast(null(), String), func.count())
        .where(no_service)
        .having(func.count() > 0),
        select(literal("severity"), c.week, c.severity, func.count()).group_by(c.week, c.severity),
        select(literal("week"), c.week, literal("incidents"), func.count()).group_by(c.week),
    ]
    return select(union_all(*parts).subquery())


def _durations(cohort: CTE) -> Select[*tuple[Any, ...]]:
    """(milestone, week, n, sum, p50, p90) per milestone over the period, and time to resolve per week."""
    c = cohort.c
    rows = [
        select(literal(label).label("metric"), literal(WHOLE).label("bucket"), c[label].label("v")).where(
            c[label].is_not(None)
        )
        for label in _MILESTONES.values()
    ]
    rows.append(select(literal("res_s"), c.week, c.res_s).where(c.res_s.is_not(None)))
    values = union_all(*rows).subquery("durations")
    # One window (one sort) for all of them: the rank, and the partition's count and sum over its whole frame.
    window: dict[str, Any] = {
        "partition_by": (values.c.metric, values.c.bucket),
        "order_by": values.c.v,
        "rows": (None, None),
    }
    ranked = select(
        values.c.metric,
        values.c.bucket,
        values.c.v,
        func.row_number().over(partition_by=window["partition_by"], order_by=values.c.v).label("rn"),
        func.count().over(**window).label("n"),
        func.sum(values.c.v).over(**window).label("total"),
    ).subquery("ranked")
    r = ranked.c
    # Nearest rank: ceil(p * n / 100), in integer arithmetic so both backends pick the same row.
    ranks = [(r.n * p + 99) // 100 for p in PERCENTILES]
    return (
        select(
            r.metric,
            r.bucket,
            func.max(r.n),
            func.max(r.total),
            *[func.max(case((r.rn == rank, r.v))) for rank in ranks],
        )
        .where(or_(*[r.rn == rank for rank in ranks]))
        .group_by(r.metric, r.bucket)
    )


def _targets(query: InsightsQuery, cohort: CTE) -> Select[*tuple[Any, ...]]:
    """(target, week, met, eligible): per target and week, per target, and all targets per week."""
    c = cohort.c
    now = _seconds(query.now)
    checks = []
    for name in query.target_names:
        took, target = c[_MILESTONES[TARGET_MILESTONES[name]]], c[f"{name}_s"]
        met = case((and_(took.is_not(None), took <= target), 1), else_=0)
        # Counted once the milestone is reached or its deadline has passed; until then it can still be met.
        eligible = case((or_(took.is_not(None), literal(now) - c.declared_s > target), 1), else_=0)
        checks.append(
            select(
                literal(name).label("target"), c.week.label("week"), met.label("met"), eligible.label("due")
            ).where(target.is_not(None))
        )
    if not checks:
        return select(literal(""), literal(WHOLE), literal(0), literal(0)).where(literal(False))
    rows = union_all(*checks).cte("checks")
    sums = (func.sum(rows.c.met), func.sum(rows.c.due))
    parts = [
        select(rows.c.target, rows.c.week, *sums).group_by(rows.c.target, rows.c.week),
        select(rows.c.target, literal(WHOLE), *sums).group_by(rows.c.target),
        select(literal("*"), rows.c.week, *sums).group_by(rows.c.week),
    ]
    return select(union_all(*parts).subquery())


def _events(cohort: CTE) -> Select[*tuple[Any, ...]]:
    """Incidents escalated at least once and reopened at least once."""

    def has(kind: str) -> ColumnElement[int]:
        found = exists().where(timeline_events.c.incident_id == cohort.c.id, timeline_events.c.kind == kind)
        return func.count(case((found, 1)))

    return select(has("escalated"), has("reopened")).select_from(cohort)


def _adherence(counted: CTE) -> Select[*tuple[Any, ...]]:
    """Updates on time, and updates due: every update posted plus every cadence that passed in silence.

    An update is on time when it kept its due time (data.on_time) with no reminder sent since the update
    before it (data.reminders, which migration 0012 filled in for older updates): a reminder means the
    deadline had passed, and the tick then moves the due time on, so the flag alone would forgive it.
    Each reminder is a cadence that passed without an update; the first of a run is the one the next
    update answers late, so updates due = updates + reminders - updates that came after reminders.
    One pass of counting over the period's updates and reminders: no ordering of the timeline.
    """
    e = timeline_events.c
    on_time = e.data["on_time"].as_boolean()
    reminders = func.coalesce(e.data["reminders"].as_integer(), 0)
    # Updates recorded before they carried the flag say nothing either way: left out.
    update = and_(e.kind == "update_posted", on_time.is_not(None))
    return (
        select(
            func.count(case((and_(update, on_time.is_(True), reminders == 0), 1))),
            func.count(case((update, 1)))
            + func.count(case((e.kind == "reminder_sent", 1)))
            - func.count(case((and_(update, reminders > 0), 1))),
        )
        .join(counted, counted.c.id == e.incident_id)
        .where(e.kind.in_(("update_posted", "reminder_sent")))
    )


def _action_items(query: InsightsQuery, cohort: CTE) -> Select[*tuple[Any, ...]]:
    """The cohort's action items: open, done, and open past their due time at the report's clock."""
    a = action_items.c
    is_open = a.done_at.is_(None)
    return select(
        func.count(case((is_open, 1))),
        func.count(case((a.done_at.is_not(None), 1))),
        func.count(case((and_(is_open, a.due_at < query.now), 1))),
    ).join(cohort, cohort.c.id == a.incident_id)


def _durations_of(rows: Sequence[Any], metric: str, bucket: int) -> Durations:
    for row in rows:
        if row[0] == metric and int(row[1]) == bucket:
            count, total = int(row[2]), int(row[3])  # count and total come from the same window
            return Durations(count, int(row[4]), int(row[5]), round(total / count, 1))
    return Durations(0, None, None, None)


class SqlInsights:
    """Read a report's figures in one read-only transaction (a single snapshot on PostgreSQL)."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory

    def read(self, query: InsightsQuery) -> Insights:
        """Compute every figure of the period with a handful of aggregate statements."""
        with self._factory() as session:
            dialect = session.get_bind().dialect.name
            options = {"isolation_level": "REPEATABLE READ"} if dialect == "postgresql" else {}
            conn = session.connection(execution_options=options)
            if dialect == "postgresql":
                # These statements are short and run once: compiling them (JIT) costs seconds, saves none.
                conn.exec_driver_sql("SET LOCAL jit = off")
            cohort = _cohort(query, dialect)
            counts = conn.execute(_counts(query)).one()
            breakdowns = conn.execute(_breakdowns(cohort, dialect)).all()
            durations = conn.execute(_durations(cohort)).all()
            targets = conn.execute(_targets(query, cohort)).all()
            counted = _counted(query)
            escalated, reopened = conn.execute(_events(counted)).one()
            on_time, due = conn.execute(_adherence(counted)).one()
            items = conn.execute(_action_items(query, counted)).one()
            session.rollback()
        total = int(counts[0])
        return Insights(
            since=query.since,
            until=query.until,
            generated_at=query.now,
            incidents=total,
            still_open=int(counts[1]),
            drills=int(counts[2]),
            duplicates=int(counts[3]),
            by_severity=_breakdown(breakdowns, "severity", WHOLE),
            by_type=_breakdown(breakdowns, "type", WHOLE),
            by_service=_breakdown(breakdowns, "service", WHOLE),
            time_to_acknowledge=_durations_of(durations, "ack_s", WHOLE),
            time_to_mitigate=_durations_of(durations, "mit_s", WHOLE),
            time_to_resolve=_durations_of(durations, "res_s", WHOLE),
            within_target={name: _share(targets, name, WHOLE) for name in query.target_names},
            escalated=Share(int(escalated), total),
            update_adherence=Share(int(on_time), int(due)),
            reopened=Share(int(reopened), total),
            action_items=ActionItemCounts(int(items[0]), int(items[1]), int(items[2])),
            weekly=[
                WeekRow(
                    week_start=start.date(),
                    incidents=_breakdown(breakdowns, "week", week).get("incidents", 0),
                    by_severity=_breakdown(breakdowns, "severity", week),
                    time_to_resolve_p50_s=_durations_of(durations, "res_s", week).p50_s,
                    within_target=_share(targets, "*", week),
                )
                for week, start in enumerate(query.week_starts)
            ],
        )


def _breakdown(rows: Sequence[Any], dimension: str, bucket: int) -> dict[str, int]:
    """One dimension's counts, largest first then by name, so reports list them in a stable order."""
    found = {
        (NONE_KEY if row[2] is None else str(row[2])): int(row[3])
        for row in rows
        if row[0] == dimension and int(row[1]) == bucket
    }
    return dict(sorted(found.items(), key=lambda item: (-item[1], item[0])))


def _share(rows: Sequence[Any], target: str, bucket: int) -> Share:
    for row in rows:
        if row[0] == target and int(row[1]) == bucket:
            return Share(int(row[2] or 0), int(row[3] or 0))
    return Share(0, 0)
