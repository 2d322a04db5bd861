"""Stale-nudge and archive claims on every backend: once across units of work, through their indexes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from bot.ops.config import IncidentConfig
from commands.jobs import JobKind
from commands.timers import tick
from store.models import Incident
from store.uow import SqlUnitOfWorkFactory
from tests.store.racing import race
from tests.store.test_retention import engine_of, query_plan, statements

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
CONFIG = IncidentConfig()


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


def add_incident(
    uow: SqlUnitOfWorkFactory,
    *,
    status: str = "investigating",
    severity: str = "sev2",
    stale_due_at: datetime | None = None,
    archive_due_at: datetime | None = None,
) -> int:
    with uow() as tx:
        incident = Incident(
            title="Checkout down",
            severity=severity,
            status=status,
            declared_by="U1",
            declared_at=NOW - timedelta(days=2),
            channel_id=None,
            stale_due_at=stale_due_at,
            archive_due_at=archive_due_at,
        )
        tx.incidents.insert_many([incident])
        tx.commit()
        return incident.id


def read(uow: SqlUnitOfWorkFactory, number: int) -> Incident:
    with uow() as tx:
        incident = tx.incidents.get(number)
        assert incident is not None
        tx.session.expunge(incident)
        return incident


def test_with_nothing_due_the_tick_is_two_indexed_reads(uow_factory: SqlUnitOfWorkFactory) -> None:
    for _ in range(3):
        add_incident(uow_factory, stale_due_at=NOW + timedelta(hours=1))
        add_incident(uow_factory, status="resolved", archive_due_at=NOW + timedelta(days=1))
    engine = engine_of(uow_factory)
    with statements(engine) as seen:
        assert tick(uow=uow_factory, clock=Clock(), settings=CONFIG, lease=LEASE).job_ids == []
    queries = [(sql, params) for sql, params in seen if sql.lstrip().upper().startswith("SELECT")]
    assert len(queries) == len(seen) == 2
    for (sql, params), index in zip(
        queries, ("ix_incidents_stale_due_at", "ix_incidents_archive_due_at"), strict=True
    ):
        assert index in query_plan(engine, sql, params)


def test_what_is_due_costs_one_claim_per_timer_whatever_the_number(uow_factory: SqlUnitOfWorkFactory) -> None:
    for _ in range(4):
        add_incident(uow_factory, stale_due_at=NOW - timedelta(minutes=1))
        add_incident(uow_factory, status="resolved", archive_due_at=NOW - timedelta(minutes=1))
    with statements(engine_of(uow_factory)) as seen:
        result = tick(uow=uow_factory, clock=Clock(), settings=CONFIG, lease=LEASE)
    assert len(result.job_ids) == 8
    updates = [sql for sql, _ in seen if sql.lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 2, updates  # one claim each; nothing to clear


def test_a_stale_claim_moves_the_due_time_by_severity_and_skips_resolved(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    due = NOW - timedelta(minutes=5)
    sev1 = add_incident(uow_factory, severity="sev1", stale_due_at=due)
    sev3 = add_incident(uow_factory, severity="sev3", stale_due_at=due)
    resolved = add_incident(uow_factory, status="resolved", stale_due_at=due)
    future = add_incident(uow_factory, stale_due_at=NOW + timedelta(minutes=5))
    next_due = {
        name: NOW + CONFIG.stale_after(name) + timedelta(hours=i) for i, name in enumerate(("sev1", "sev3"))
    }
    with uow_factory() as tx:
        assert [i for i, _ in tx.timers.due_stale(NOW, 10)] == [sev1, sev3, resolved]
        claimed = tx.timers.claim_stale([sev1, sev3, resolved, future], NOW, next_due, NOW)
        tx.timers.clear_unclaimed([resolved], [])
        tx.commit()
    assert claimed == {sev1, sev3}
    assert read(uow_factory, sev1).stale_due_at == next_due["sev1"]
    assert read(uow_factory, sev3).stale_due_at == next_due["sev3"]
    assert read(uow_factory, resolved).stale_due_at is None
    assert read(uow_factory, future).stale_due_at == NOW + timedelta(minutes=5)


def test_interleaved_units_of_work_claim_each_timer_once(uow_factory: SqlUnitOfWorkFactory) -> None:
    stale = add_incident(uow_factory, stale_due_at=NOW)
    archive = add_incident(uow_factory, status="resolved", archive_due_at=NOW)
    later = {"sev2": NOW + timedelta(days=1)}
    with uow_factory() as first, uow_factory() as second:
        assert first.timers.due_stale(NOW, 10) == second.timers.due_stale(NOW, 10)
        assert first.timers.claim_stale([stale], NOW, later, NOW) == {stale}
        assert first.timers.claim_archives([archive], NOW) == {archive}
        first.commit()
        assert second.timers.claim_stale([stale], NOW, later, NOW) == set()
        assert second.timers.claim_archives([archive], NOW) == set()
        second.commit()
    assert read(uow_factory, archive).archive_due_at is None


def test_a_reopened_incident_is_not_claimed_for_archiving(uow_factory: SqlUnitOfWorkFactory) -> None:
    number = add_incident(uow_factory, status="resolved", archive_due_at=NOW - timedelta(hours=1))
    with uow_factory() as tx:  # a reopen that has not cleared the archive time
        tx.incidents.update_columns(number, {"status": "investigating"})
        tx.commit()
    assert tick(uow=uow_factory, clock=Clock(), settings=CONFIG, lease=LEASE).job_ids == []
    assert read(uow_factory, number).archive_due_at is None  # forgotten, so no tick reads it again


def test_racing_ticks_record_each_timer_once(uow_factory: SqlUnitOfWorkFactory) -> None:
    stale = [add_incident(uow_factory, stale_due_at=NOW) for _ in range(3)]
    archives = [add_incident(uow_factory, status="resolved", archive_due_at=NOW) for _ in range(3)]
    jobs = race(lambda: tick(uow=uow_factory, clock=Clock(), settings=CONFIG, lease=LEASE).job_ids)
    assert sum(len(j) for j in jobs) == 6, jobs
    with uow_factory() as tx:
        recorded = [job for i in stale + archives for job in tx.jobs.pending_for(i)]
        kinds = sorted((job.incident_id, job.kind) for job in recorded)
    assert kinds == sorted([(i, JobKind.STALE) for i in stale] + [(i, JobKind.ARCHIVE) for i in archives])


@pytest.mark.postgres
def test_postgres_archive_claim_waits_for_a_reopen_then_loses(postgres_url: str) -> None:
    """A claim blocked on a reopen's row lock re-checks the status once the reopen commits."""
    from bot.ops.migrate import upgrade
    from store.db import make_engine, make_session_factory

    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    try:
        factory = SqlUnitOfWorkFactory(make_session_factory(engine))
        number = add_incident(factory, status="resolved", archive_due_at=NOW)
        result: list[set[int]] = []
        with factory() as reopen:
            incident = reopen.incidents.get(number, for_update=True)
            assert incident is not None
            incident.status = "investigating"  # the reopen keeps the archive time, to show the check holds

            def claimer() -> None:
                with factory() as uow:
                    result.append(uow.timers.claim_archives([number], NOW))
                    uow.commit()

            thread = threading.Thread(target=claimer)
            thread.start()
            thread.join(timeout=0.5)
            assert thread.is_alive(), "the claim should be waiting on the reopen's row lock"
            reopen.commit()
        thread.join(timeout=10)
        assert result == [set()]
    finally:
        engine.dispose()
