"""A burst's multi-row INSERTs (store/bulk.py): the rows' own ids back in order, every value as written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from store.models import Incident, SlackJob, TimelineEvent, incidents, timeline_events
from store.uow import SqlUnitOfWorkFactory

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
# Keys in an order PostgreSQL's jsonb would change (it puts shorter keys first), and a JSON null inside.
ORDERED = {"longest": 'Café \u2013 "quoted"', "k": {"gone": None}}


def _burst(count: int) -> list[Incident]:
    return [
        Incident(
            title=f"Checkout down {n}: O'Brien's \"cart\" \\ {{x}}",
            severity="sev2" if n % 2 else "sev1",
            status="investigating",
            declared_by=f"U{n}",
            declared_at=NOW + timedelta(seconds=n),
            services=[f"svc-{n}", "shared"] if n % 3 else [],
            private=n % 5 == 0,
            impact_started_at=NOW - timedelta(minutes=n) if n % 4 else None,
        )
        for n in range(count)
    ]


def test_a_burst_gets_its_own_ids_in_order_with_every_value_as_written(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:  # rows already there: the new ids do not start at 1
        uow.incidents.insert_many(_burst(3))
        uow.commit()
    for size in (1, 7, 150):  # differing sizes share one statement on PostgreSQL
        burst = _burst(size)
        with uow_factory() as uow:
            ids = uow.incidents.insert_many(burst)
            uow.commit()
        assert ids == [incident.id for incident in burst] and len(set(ids)) == size
        with uow_factory() as uow:
            rows = {
                row.id: row for row in uow.session.execute(select(incidents).where(incidents.c.id.in_(ids)))
            }
        for incident in burst:
            row = rows[incident.id]
            assert (row.title, row.severity, row.declared_by, row.services, row.private) == (
                incident.title,
                incident.severity,
                incident.declared_by,
                incident.services,
                incident.private,
            )
            assert row.declared_at == incident.declared_at
            assert row.impact_started_at == incident.impact_started_at
            assert row.reminders_since_update == 0 and row.drill is False


def test_events_and_jobs_of_a_burst_keep_their_json_and_their_incident(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        [first, second] = uow.incidents.insert_many(_burst(2))
        uow.timeline.insert_many(
            [
                TimelineEvent(incident_id=first, kind="declared", text="a", occurred_at=NOW, data={"k": [1]}),
                TimelineEvent(incident_id=second, kind="declared", text="b", occurred_at=NOW, data=ORDERED),
            ]
        )
        job_ids = uow.jobs.insert_many(
            [
                SlackJob(kind="provision", incident_id=i, due_at=NOW, created_at=NOW, payload={"n": i})
                for i in (first, second)
            ]
        )
        uow.commit()
    with uow_factory() as uow:
        events = uow.session.execute(
            select(timeline_events.c.incident_id, timeline_events.c.text, timeline_events.c.data).order_by(
                timeline_events.c.id
            )
        ).all()
        assert [tuple(e) for e in events] == [(first, "a", {"k": [1]}), (second, "b", ORDERED)]
        assert list(events[1].data) == list(ORDERED)  # stored as written, not in jsonb's key order
        assert [uow.jobs.get(j).payload for j in job_ids] == [{"n": first}, {"n": second}]  # type: ignore[union-attr]


def test_a_naive_time_in_a_burst_is_refused_and_nothing_is_written(uow_factory: SqlUnitOfWorkFactory) -> None:
    burst = _burst(3)
    burst[1].declared_at = datetime(2024, 5, 1, 12, 0)  # noqa: DTZ001 - the mistake under test
    with pytest.raises(Exception, match="naive datetime"), uow_factory() as uow:
        uow.incidents.insert_many(burst)
        uow.commit()
    with uow_factory() as uow:
        assert uow.session.execute(select(incidents.c.id)).all() == []


def test_an_over_long_value_in_a_burst_is_refused_not_cut(uow_factory: SqlUnitOfWorkFactory) -> None:
    """A value longer than its column fails the batch as a single INSERT would; it is never truncated."""
    with uow_factory() as uow:
        if uow.session.get_bind().dialect.name == "sqlite":
            pytest.skip("SQLite does not enforce VARCHAR lengths")
    burst = _burst(2)
    burst[1].severity = "s" * 41  # the column holds 40
    with pytest.raises(Exception, match="too long|value too long"), uow_factory() as uow:
        uow.incidents.insert_many(burst)
        uow.commit()
    with uow_factory() as uow:
        assert uow.session.execute(select(incidents.c.id)).all() == []
