"""Report figures computed in SQL: the same hand-worked numbers on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from commands import reminders
from commands.insights import ActionItemCounts, Durations, Insights, Share, WeekRow, build_query
from store.db import make_engine, make_session_factory
from store.insights import SqlInsights
from store.uow import SqlUnitOfWorkFactory
from tests.insights_seed import CONFIG, NOW, SINCE, UNTIL, seed
from tests.store import test_postmortem_data as pm


def _read(url: str, since: datetime = SINCE, until: datetime = UNTIL, now: datetime = NOW) -> Insights:
    engine = make_engine(url)
    try:
        query = build_query(since=since, until=until, now=now, settings=CONFIG)
        return SqlInsights(make_session_factory(engine)).read(query)
    finally:
        engine.dispose()


def test_counts_leave_out_drills_duplicates_and_what_is_outside_the_period(db_url: str) -> None:
    seed(db_url)
    got = _read(db_url)
    assert (got.incidents, got.still_open, got.drills, got.duplicates) == (6, 1, 1, 1)
    assert got.by_severity == {"sev1": 2, "sev2": 2, "sev3": 1, "sev9": 1}
    assert got.by_type == {"(none)": 3, "database": 2, "security": 1}
    # An incident counts once under each of its services; one without any under "(none)".
    assert got.by_service == {"(none)": 3, "api": 2, "db": 2}


def test_durations_are_nearest_rank_percentiles_over_those_that_reached_the_milestone(db_url: str) -> None:
    seed(db_url)
    got = _read(db_url)
    # Acknowledged after 30, 60, 120, 300 (10:00:00.9 -> 10:05:00.1, each truncated to the second), 900 s.
    assert got.time_to_acknowledge == Durations(count=5, p50_s=120, p90_s=900, mean_s=282.0)
    assert got.time_to_mitigate == Durations(count=2, p50_s=240, p90_s=1800, mean_s=1020.0)
    # Incident 4 is still open: not in the resolve figures.
    assert got.time_to_resolve == Durations(count=5, p50_s=7200, p90_s=90000, mean_s=22440.0)


def test_targets_count_what_reached_the_milestone_or_passed_its_deadline(db_url: str) -> None:
    seed(db_url)
    got = _read(db_url)
    # sev1 alone sets one: 300 s met, 900 s missed.
    assert got.within_target["acknowledge_within"] == Share(1, 2)
    assert got.within_target["mitigate_within"] == Share(0, 0)
    assert got.within_target["mitigate_within"].rate is None
    # 3600 <= 2h met, 10800 > 2h missed, 2h <= 1d met, 600 <= 1d met, 90000 > 1d (sev9 -> sev3's) missed;
    # incident 4 (sev2, 1d) is 30 minutes old at the clock: neither met nor missed yet.
    assert got.within_target["resolve_within"] == Share(3, 5)
    assert got.within_target["resolve_within"].rate == 0.6


def test_rates_from_the_timeline_and_the_action_items(db_url: str) -> None:
    seed(db_url)
    got = _read(db_url)
    assert got.escalated == Share(1, 6)
    assert got.reopened == Share(1, 6)
    # On time: 2 + 1 + 1. Due: incident 1's 2; incident 2's 2 updates and 2 reminders, less the one its
    # late update answered; incident 3's late update (it beat the reminder); incident 5's update and the
    # reminder nobody answered. The update without a flag is left out.
    assert got.update_adherence == Share(4, 8)
    assert got.action_items == ActionItemCounts(open=3, done=1, overdue=1)


def test_weekly_rows_start_on_mondays_and_a_declaration_at_midnight_opens_the_week(db_url: str) -> None:
    seed(db_url)
    got = _read(db_url)
    assert got.weekly == [
        WeekRow(date(2026, 3, 2), 2, {"sev1": 2}, 3600, Share(2, 4)),
        WeekRow(date(2026, 3, 9), 4, {"sev2": 2, "sev3": 1, "sev9": 1}, 7200, Share(2, 3)),
    ]


def test_a_period_without_incidents_has_zero_counts_and_no_durations(db_url: str) -> None:
    seed(db_url)
    since, until = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 8, tzinfo=UTC)
    got = _read(db_url, since, until)
    assert (got.incidents, got.drills, got.duplicates, got.by_severity, got.by_service) == (0, 0, 0, {}, {})
    assert got.time_to_resolve == Durations(0, None, None, None)
    assert got.escalated.rate is None and got.update_adherence == Share(0, 0)
    assert got.action_items == ActionItemCounts(0, 0, 0)
    # 1 January 2025 is a Wednesday: the rows still start on Mondays.
    assert [w.week_start for w in got.weekly] == [date(2024, 12, 30), date(2025, 1, 6)]
    assert all(w.incidents == 0 and w.time_to_resolve_p50_s is None for w in got.weekly)


def test_figures_of_an_incident_run_through_the_real_commands(uow_factory: SqlUnitOfWorkFactory) -> None:
    """What declare, assign, the reminder tick, update and resolve record is what the report reads."""
    uow, clock = uow_factory, pm.Clock()
    pm.declared(uow, clock, "sev2")  # an update owed every 30 minutes
    pm.assign(uow, clock, 2, "commander", "U1")  # acknowledged after 2 minutes
    pm.update(uow, clock, 20, "on time")  # next owed by 50
    clock.to(51)
    reminders.tick(uow=uow, clock=clock, settings=pm.CONFIG, lease=pm.LEASE)  # the deadline at 50 is missed
    pm.update(uow, clock, 55, "late, after the reminder")  # the tick moved the due time: flagged on time
    pm.update(uow, clock, 90, "late, before any reminder")  # owed by 85, and the tick had not run
    pm.resolve(uow, clock, 120)

    query = build_query(
        since=pm.START - timedelta(hours=1),
        until=pm.START + timedelta(days=1),
        now=clock.at,
        settings=pm.CONFIG,
    )
    got = SqlInsights(uow.session_factory).read(query)
    assert (got.incidents, got.still_open) == (1, 0)
    assert got.time_to_acknowledge == Durations(1, 120, 120, 120.0)
    assert got.time_to_resolve == Durations(1, 7200, 7200, 7200.0)
    assert got.update_adherence == Share(1, 3)
