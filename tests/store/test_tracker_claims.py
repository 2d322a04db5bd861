"""Tracker checks on every backend: each due link claimed once across replicas, through its index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.ops.config import IncidentConfig
from commands.jobs import JobKind
from commands.records import ActionItem, TrackerLink
from commands.tracker_sync import tick
from store.uow import SqlUnitOfWorkFactory
from tests.store.racing import race
from tests.store.test_retention import engine_of, query_plan, statements
from tests.store.test_timer_claims import Clock, add_incident

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
GITHUB = IncidentConfig.model_validate({"trackers": {"github": {"repo": "acme/ops", "check_every": "15m"}}})


def add_link(
    uow: SqlUnitOfWorkFactory, next_check_at: datetime | None, tracker: str = "github"
) -> tuple[int, int]:
    number = add_incident(uow)
    with uow() as tx:
        item = tx.action_items.add(
            ActionItem(incident_id=number, text="Add a retry", created_by="U1", created_at=NOW)
        )
        tx.flush()
        link = tx.tracker_links.add(
            TrackerLink(
                action_item_id=item.id,
                incident_id=number,
                tracker=tracker,
                key="#1",
                url="https://github.example/acme/ops/issues/1",
                created_at=NOW,
                next_check_at=next_check_at,
                state="open" if next_check_at else "closed",
            )
        )
        tx.commit()
        return link.id, number


def next_check(uow: SqlUnitOfWorkFactory, link_id: int) -> datetime | None:
    with uow() as tx:
        link = tx.tracker_links.get(link_id)
        assert link is not None
        return link.next_check_at


def test_with_nothing_due_the_tick_is_one_indexed_read(uow_factory: SqlUnitOfWorkFactory) -> None:
    for _ in range(3):
        add_link(uow_factory, NOW + timedelta(minutes=5))
    add_link(uow_factory, None)  # closed: never read again
    engine = engine_of(uow_factory)
    with statements(engine) as seen:
        assert tick(uow=uow_factory, clock=Clock(NOW), settings=GITHUB, lease=LEASE).job_ids == []
    assert len(seen) == 1
    sql, params = seen[0]
    assert "ix_tracker_links_next_check_at" in query_plan(engine, sql, params)


def test_without_a_tracker_the_tick_reads_nothing(uow_factory: SqlUnitOfWorkFactory) -> None:
    add_link(uow_factory, NOW - timedelta(minutes=5))
    with statements(engine_of(uow_factory)) as seen:
        assert tick(uow=uow_factory, clock=Clock(NOW), settings=IncidentConfig(), lease=LEASE).job_ids == []
    assert seen == []


def test_a_due_link_gets_one_check_job_and_its_next_check(uow_factory: SqlUnitOfWorkFactory) -> None:
    due, number = add_link(uow_factory, NOW - timedelta(minutes=1))
    later, _ = add_link(uow_factory, NOW + timedelta(minutes=1))
    other, _ = add_link(uow_factory, NOW - timedelta(minutes=1), tracker="jira")  # not the configured one
    result = tick(uow=uow_factory, clock=Clock(NOW), settings=GITHUB, lease=LEASE)
    assert len(result.job_ids) == 1
    with uow_factory() as tx:
        [job] = tx.jobs.pending_for(number)
        assert (job.kind, job.payload) == (JobKind.TRACKER_CHECK, {"link": due})
    assert next_check(uow_factory, due) == NOW + timedelta(minutes=15)
    assert next_check(uow_factory, later) == NOW + timedelta(minutes=1)
    assert next_check(uow_factory, other) == NOW - timedelta(minutes=1)
    assert tick(uow=uow_factory, clock=Clock(NOW), settings=GITHUB, lease=LEASE).job_ids == []


def test_interleaved_units_of_work_claim_each_link_once(uow_factory: SqlUnitOfWorkFactory) -> None:
    link, _ = add_link(uow_factory, NOW)
    with uow_factory() as first, uow_factory() as second:
        assert first.tracker_links.due(NOW, "github", 10) == second.tracker_links.due(NOW, "github", 10)
        assert first.tracker_links.claim([link], NOW, NOW + timedelta(minutes=10)) == {link}
        first.commit()
        assert second.tracker_links.claim([link], NOW, NOW + timedelta(minutes=10)) == set()
        second.commit()


def test_racing_ticks_record_each_check_once(uow_factory: SqlUnitOfWorkFactory) -> None:
    links = [add_link(uow_factory, NOW)[0] for _ in range(4)]
    jobs = race(lambda: tick(uow=uow_factory, clock=Clock(NOW), settings=GITHUB, lease=LEASE).job_ids)
    assert sum(len(j) for j in jobs) == len(links), jobs


def test_closing_is_recorded_once(uow_factory: SqlUnitOfWorkFactory) -> None:
    link, _ = add_link(uow_factory, NOW)
    with uow_factory() as tx:
        assert tx.tracker_links.close(link, NOW) is True
        assert tx.tracker_links.close(link, NOW) is False
        tx.commit()
    assert next_check(uow_factory, link) is None
