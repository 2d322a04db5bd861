"""Target claims on every backend: each warning and breach recorded once, through the indexed due column."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from bot.ops.config import IncidentConfig
from commands.jobs import JobKind
from commands.targets import tick
from store.models import Incident
from store.uow import SqlUnitOfWorkFactory
from tests.store.racing import race
from tests.store.test_retention import engine_of, query_plan, statements

DECLARED = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
_LEVELS = IncidentConfig().severities
CONFIG = IncidentConfig().model_copy(
    update={
        "severities": {
            **_LEVELS,
            "sev1": _LEVELS["sev1"].model_copy(
                update={"acknowledge_within": timedelta(minutes=5), "mitigate_within": timedelta(hours=1)}
            ),
        }
    }
)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


def at(minutes: float) -> Clock:
    return Clock(DECLARED + timedelta(minutes=minutes))


def add_incident(
    uow: SqlUnitOfWorkFactory, *, due_in: float | None = 4, status: str = "investigating"
) -> int:
    """A sev1 declared at DECLARED, its first target moment (the acknowledge warning) `due_in` minutes on."""
    with uow() as tx:
        incident = Incident(
            title="Checkout down",
            severity="sev1",
            status=status,
            declared_by="U1",
            declared_at=DECLARED,
            channel_id=None,
            target_due_at=None if due_in is None else DECLARED + timedelta(minutes=due_in),
        )
        tx.incidents.insert_many([incident])
        tx.commit()
        return incident.id


def due_at(uow: SqlUnitOfWorkFactory, number: int) -> datetime | None:
    with uow() as tx:
        incident = tx.incidents.get(number)
        assert incident is not None
        return incident.target_due_at


def recorded(uow: SqlUnitOfWorkFactory, numbers: list[int]) -> list[tuple[int, str, str]]:
    with uow() as tx:
        jobs = [job for n in numbers for job in tx.jobs.pending_for(n)]
        return sorted((job.incident_id, job.kind, job.payload["target"]) for job in jobs)


def test_with_nothing_due_the_tick_is_one_indexed_read(uow_factory: SqlUnitOfWorkFactory) -> None:
    for _ in range(3):
        add_incident(uow_factory, due_in=30)
    engine = engine_of(uow_factory)
    with statements(engine) as seen:
        assert tick(uow=uow_factory, clock=at(10), settings=CONFIG, lease=LEASE).job_ids == []
    assert len(seen) == 1
    sql, params = seen[0]
    assert sql.lstrip().upper().startswith("SELECT")
    assert "ix_incidents_target_due_at" in query_plan(engine, sql, params)


def test_a_claim_records_the_warning_and_moves_to_the_breach(uow_factory: SqlUnitOfWorkFactory) -> None:
    number = add_incident(uow_factory)
    with statements(engine_of(uow_factory)) as seen:
        result = tick(uow=uow_factory, clock=at(4), settings=CONFIG, lease=LEASE)
    assert len(result.job_ids) == 1
    assert len([sql for sql, _ in seen if sql.lstrip().upper().startswith("UPDATE")]) == 1, "one claim"
    assert recorded(uow_factory, [number]) == [(number, JobKind.TARGET_WARNING, "acknowledge_within")]
    assert due_at(uow_factory, number) == DECLARED + timedelta(minutes=5)
    tick(uow=uow_factory, clock=at(5), settings=CONFIG, lease=LEASE)
    with uow_factory() as tx:
        [event] = tx.timeline.list_for(number)
        assert event.kind == "target_breached" and event.data["target"] == "acknowledge_within"
    assert due_at(uow_factory, number) == DECLARED + timedelta(minutes=48)


def test_interleaved_units_of_work_claim_each_moment_once(uow_factory: SqlUnitOfWorkFactory) -> None:
    number = add_incident(uow_factory)
    now = DECLARED + timedelta(minutes=4)
    with uow_factory() as first, uow_factory() as second:
        [seen] = first.targets.due(now, 10)
        assert second.targets.due(now, 10) == [seen]
        assert first.targets.claim(seen, DECLARED + timedelta(minutes=5)) is True
        first.commit()
        assert second.targets.claim(seen, DECLARED + timedelta(minutes=5)) is False
        second.commit()
    assert due_at(uow_factory, number) == DECLARED + timedelta(minutes=5)


def test_a_claim_loses_to_a_milestone_or_a_severity_change_committed_after_the_read(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    acknowledged, escalated, resolved = (add_incident(uow_factory) for _ in range(3))
    now = DECLARED + timedelta(minutes=4)
    with uow_factory() as tx:
        seen = {clock.id: clock for clock in tx.targets.due(now, 10)}
    with uow_factory() as tx:
        tx.incidents.update_columns(acknowledged, {"acknowledged_at": now})
        tx.incidents.update_columns(escalated, {"severity": "sev2"})
        tx.incidents.update_columns(resolved, {"status": "resolved"})
        tx.commit()
    with uow_factory() as tx:
        assert [tx.targets.claim(seen[n], None) for n in (acknowledged, escalated, resolved)] == [False] * 3
        tx.commit()
    assert tick(uow=uow_factory, clock=Clock(now), settings=CONFIG, lease=LEASE).job_ids == [], (
        "decided again on what is true now: acknowledged, no target for sev2, resolved"
    )
    assert [due_at(uow_factory, n) for n in (acknowledged, escalated, resolved)] == [
        DECLARED + timedelta(minutes=48),
        None,
        None,
    ]


def test_racing_ticks_record_each_warning_and_breach_once(uow_factory: SqlUnitOfWorkFactory) -> None:
    numbers = [add_incident(uow_factory) for _ in range(4)]
    for minutes in (4, 5):
        race(partial(tick, uow=uow_factory, clock=at(minutes), settings=CONFIG, lease=LEASE))
    assert recorded(uow_factory, numbers) == sorted(
        (n, kind, "acknowledge_within")
        for n in numbers
        for kind in (JobKind.TARGET_WARNING, JobKind.TARGET_BREACHED)
    )
    with uow_factory() as tx:
        assert [len(tx.timeline.list_for(n)) for n in numbers] == [1] * 4


@pytest.mark.postgres
def test_postgres_claim_waits_for_an_acknowledgement_then_loses(postgres_url: str) -> None:
    """A claim blocked on a commander's row lock re-checks the milestone once the assignment commits."""
    from bot.ops.migrate import upgrade
    from store.db import make_engine, make_session_factory

    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    try:
        factory = SqlUnitOfWorkFactory(make_session_factory(engine))
        number = add_incident(factory)
        now = DECLARED + timedelta(minutes=4)
        with factory() as tx:
            [seen] = tx.targets.due(now, 10)
        result: list[bool] = []
        with factory() as assign:
            incident = assign.incidents.get(number, for_update=True)
            assert incident is not None
            incident.acknowledged_at = now

            def claimer() -> None:
                with factory() as uow:
                    result.append(uow.targets.claim(seen, DECLARED + timedelta(minutes=5)))
                    uow.commit()

            thread = threading.Thread(target=claimer)
            thread.start()
            thread.join(timeout=0.5)
            assert thread.is_alive(), "the claim should be waiting on the assignment's row lock"
            assign.commit()
        thread.join(timeout=10)
        assert result == [False]
    finally:
        engine.dispose()
