"""Postmortem reminders, refreshes and versions on every backend: claimed once, through their indexes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from bot.ops.config import IncidentConfig
from commands.jobs import JobKind
from commands.postmortem_owner import overdue_postmortems, tick
from commands.records import DraftVersion, RoleAssignment
from store.models import Incident
from store.uow import SqlUnitOfWorkFactory
from tests.store.racing import race
from tests.store.test_retention import engine_of, query_plan, statements

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
CONFIG = IncidentConfig()


class Clock:
    def now(self) -> datetime:
        return NOW


def add_incident(
    uow: SqlUnitOfWorkFactory,
    *,
    status: str = "resolved",
    pm_status: str | None = None,
    due: datetime | None = None,
    refresh: datetime | None = None,
    resolved_days_ago: float = 6,
) -> int:
    with uow() as tx:
        incident = Incident(
            title="Checkout down",
            severity="sev2",
            status=status,
            declared_by="U1",
            declared_at=NOW - timedelta(days=7),
            resolved_at=NOW - timedelta(days=resolved_days_ago) if status == "resolved" else None,
            postmortem_status=pm_status,
            postmortem_due_at=due,
            postmortem_refresh_at=refresh,
        )
        incident.roles.append(
            RoleAssignment(
                role="commander", user_id="U2", assigned_by="U1", assigned_at=NOW - timedelta(days=7)
            )
        )
        tx.incidents.add(incident)
        tx.commit()
        return incident.id


def pending_kinds(uow: SqlUnitOfWorkFactory, ids: list[int]) -> list[tuple[int, str]]:
    with uow() as tx:
        return sorted((job.incident_id, job.kind) for i in ids for job in tx.jobs.pending_for(i))


def test_with_nothing_due_the_tick_is_two_indexed_reads(uow_factory: SqlUnitOfWorkFactory) -> None:
    for _ in range(3):
        add_incident(uow_factory, due=NOW + timedelta(hours=1), refresh=NOW + timedelta(hours=2))
    engine = engine_of(uow_factory)
    with statements(engine) as seen:
        assert tick(uow=uow_factory, clock=Clock(), settings=CONFIG, lease=LEASE).job_ids == []
    assert len(seen) == 2
    for (sql, params), index in zip(
        seen, ("ix_incidents_postmortem_due_at", "ix_incidents_postmortem_refresh_at"), strict=True
    ):
        assert index in query_plan(engine, sql, params)


def test_only_drafts_of_resolved_incidents_are_reminded_and_only_unpublished_ones_refreshed(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    past = NOW - timedelta(minutes=1)
    draft = add_incident(uow_factory, due=past, refresh=past)
    review = add_incident(uow_factory, pm_status="in-review", due=past, refresh=past)
    published = add_incident(uow_factory, pm_status="published", due=past, refresh=past)
    reopened = add_incident(uow_factory, status="investigating", due=past, refresh=past)
    tick(uow=uow_factory, clock=Clock(), settings=CONFIG, lease=LEASE)
    assert pending_kinds(uow_factory, [draft, review, published, reopened]) == sorted(
        [
            (draft, JobKind.POSTMORTEM_REMINDER),
            (draft, JobKind.POSTMORTEM),
            (review, JobKind.POSTMORTEM),
        ]
    )
    with uow_factory() as tx:
        rows = {i: tx.incidents.get(i) for i in (draft, review, published, reopened)}
        # Claimed or not to fire: no timer left behind that would be read again every tick.
        assert all(r is not None and r.postmortem_due_at is None for r in rows.values())
        assert rows[draft] is not None and rows[draft].postmortem_refresh_at == NOW + timedelta(days=1)
        assert rows[published] is not None and rows[published].postmortem_refresh_at is None
        assert rows[reopened] is not None and rows[reopened].postmortem_refresh_at is None
        job = next(j for j in tx.jobs.pending_for(draft) if j.kind == JobKind.POSTMORTEM_REMINDER)
        assert job.payload["owner"] == "U2", "the commander at resolve time"


def test_racing_ticks_record_each_timer_once(uow_factory: SqlUnitOfWorkFactory) -> None:
    past = NOW - timedelta(minutes=1)
    ids = [add_incident(uow_factory, due=past, refresh=past) for _ in range(3)]
    race(lambda: tick(uow=uow_factory, clock=Clock(), settings=CONFIG, lease=LEASE))
    expected = [(i, k) for i in ids for k in (JobKind.POSTMORTEM, JobKind.POSTMORTEM_REMINDER)]
    assert pending_kinds(uow_factory, ids) == sorted(expected)


def test_overdue_postmortems_are_the_unpublished_ones_past_due(uow_factory: SqlUnitOfWorkFactory) -> None:
    late = add_incident(uow_factory, resolved_days_ago=6)
    add_incident(uow_factory, resolved_days_ago=6, pm_status="published")
    add_incident(uow_factory, resolved_days_ago=2)
    review = add_incident(uow_factory, resolved_days_ago=9, pm_status="in-review")
    found = overdue_postmortems(uow=uow_factory, now=NOW, settings=CONFIG)
    assert [(o.incident_id, o.status, o.owner) for o in found] == [
        (review, "in-review", "U2"),
        (late, "draft", "U2"),
    ]


def test_a_version_number_is_taken_once(uow_factory: SqlUnitOfWorkFactory) -> None:
    number = add_incident(uow_factory)

    def version(job_id: int) -> DraftVersion:
        return DraftVersion(incident_id=number, version=1, job_id=job_id, markdown="# v1\n", recorded_at=NOW)

    with uow_factory() as tx:
        tx.postmortems.add_version(version(7))
        tx.commit()
    with uow_factory() as tx, pytest.raises(IntegrityError):
        tx.postmortems.add_version(version(8))  # another job numbering v1 too: it retries, and numbers v2
    with uow_factory() as tx:
        found = tx.postmortems.version_for_job(7)
        assert found is not None and found.markdown == "# v1\n"
        latest = tx.postmortems.latest_version(number)
        assert latest is not None and latest.version == 1
        assert tx.postmortems.version(number, 2) is None
