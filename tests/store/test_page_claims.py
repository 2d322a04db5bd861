"""Page timeouts on every backend: each late tier is claimed once across units of work and replicas,
through its index, and an acknowledgement or a resolve committed first always wins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.ops.config import config_from_mapping
from commands import pages
from commands.jobs import JobKind
from commands.paging import acknowledge_from_pager
from commands.records import Page
from store.models import Incident
from store.uow import SqlUnitOfWorkFactory
from tests.store.racing import race
from tests.store.test_retention import engine_of, query_plan, statements

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
CONFIG = config_from_mapping(
    {
        "escalation_policies": {
            "payments": {
                "tiers": [
                    {"notify": ["U2", "pagerduty:payments"], "ack_within": "5m"},
                    {"notify": ["U3"], "ack_within": "10m"},
                ]
            }
        }
    }
)


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


def paged_incident(uow: SqlUnitOfWorkFactory, *, due: datetime = NOW) -> tuple[int, int]:
    """An open incident whose policy's first tier was paged and is due at `due`: (incident, lead page)."""
    with uow() as tx:
        incident = Incident(
            title="Checkout down",
            severity="sev2",
            status="investigating",
            declared_by="U1",
            declared_at=NOW - timedelta(hours=1),
            channel_id=None,
        )
        tx.incidents.insert_many([incident])
        key = pages.dedup_key(incident.id, "payments")
        rows = [
            Page(
                incident_id=incident.id,
                policy="payments",
                dedup_key=key,
                target=target,
                paged_at=due - timedelta(minutes=5),
                ack_due_at=due if position == 0 else None,
            )
            for position, target in enumerate(("U2", "pagerduty:payments"))
        ]
        tx.pages.insert_many(rows)
        tx.commit()
        return incident.id, rows[0].id


def tick(uow: SqlUnitOfWorkFactory) -> list[int]:
    return pages.tick(uow=uow, clock=Clock(), settings=CONFIG, lease=LEASE).job_ids


def test_with_nothing_due_the_tick_is_one_indexed_read(uow_factory: SqlUnitOfWorkFactory) -> None:
    for _ in range(3):
        paged_incident(uow_factory, due=NOW + timedelta(minutes=1))
    engine = engine_of(uow_factory)
    with statements(engine) as seen:
        assert tick(uow_factory) == []
    [(sql, params)] = seen
    assert "ix_pages_ack_due_at" in query_plan(engine, sql, params)


def test_a_late_tier_pages_the_next_and_moves_the_timer(uow_factory: SqlUnitOfWorkFactory) -> None:
    number, lead = paged_incident(uow_factory)
    [job_id] = tick(uow_factory)
    with uow_factory() as tx:
        rows = tx.pages.list_for(number)
        assert [(p.tier, p.target, p.ack_due_at) for p in rows] == [
            (1, "U2", None),
            (1, "pagerduty:payments", None),
            (2, "U3", NOW + timedelta(minutes=10)),
        ]
        job = tx.jobs.get(job_id)
        assert job is not None and job.kind == JobKind.PAGE and job.payload["people"] == [[rows[2].id, "U3"]]
        assert lead == rows[0].id
    assert tick(uow_factory) == []


def test_interleaved_units_of_work_claim_a_tier_once(uow_factory: SqlUnitOfWorkFactory) -> None:
    _, lead = paged_incident(uow_factory)
    with uow_factory() as first, uow_factory() as second:
        assert first.pages.due(NOW, 10) == second.pages.due(NOW, 10) == [(lead, NOW)]
        assert first.pages.claim([lead], NOW) == {lead}
        first.commit()
        assert second.pages.claim([lead], NOW) == set()
        second.commit()


def test_an_acknowledgement_committed_first_wins_over_the_timeout(uow_factory: SqlUnitOfWorkFactory) -> None:
    number, _ = paged_incident(uow_factory)
    key = pages.dedup_key(number, "payments")
    acknowledged = acknowledge_from_pager(
        "pagerduty", key, "Dana", uow=uow_factory, clock=Clock(NOW - timedelta(seconds=1)), lease=LEASE
    )
    assert acknowledged
    assert tick(uow_factory) == []
    with uow_factory() as tx:
        rows = tx.pages.list_for(number)
        assert all(p.closed_at is not None and p.ack_due_at is None for p in rows)
        assert [(p.acknowledged_by, p.acknowledged_via) for p in rows if p.acknowledged_at] == [
            ("Dana", "pagerduty")
        ]
        incident = tx.incidents.get(number)
        assert incident is not None and incident.acknowledged_at == NOW - timedelta(seconds=1)
    assert not acknowledge_from_pager("pagerduty", key, "Eve", uow=uow_factory, clock=Clock(), lease=LEASE)


def test_racing_ticks_page_each_late_tier_once(uow_factory: SqlUnitOfWorkFactory) -> None:
    numbers = [paged_incident(uow_factory)[0] for _ in range(3)]
    jobs = race(lambda: tick(uow_factory))
    assert sum(len(j) for j in jobs) == 3, jobs
    with uow_factory() as tx:
        for number in numbers:
            assert [p.tier for p in tx.pages.list_for(number)] == [1, 1, 2]
            assert len(tx.timeline.data_of(number, "page_escalated")) == 1


def test_a_restarted_process_finds_the_timer_and_acts_once(uow_factory: SqlUnitOfWorkFactory) -> None:
    number, _ = paged_incident(uow_factory, due=NOW - timedelta(hours=2))  # due while nothing ran
    assert len(tick(uow_factory)) == 1
    assert tick(uow_factory) == []
    with uow_factory() as tx:
        [event] = tx.timeline.data_of(number, "page_escalated")
        assert event["tier"] == 2
