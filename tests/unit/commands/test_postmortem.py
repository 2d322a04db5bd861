"""Postmortem requests and the data a draft is built from, on the in-memory store."""

from __future__ import annotations

import pytest

from commands.assign import assign_role
from commands.errors import NotInWarRoom
from commands.parsing import Assign, PostUpdate, Resolve
from commands.postmortem import load_postmortem, remember_names, request_postmortem
from commands.resolve import resolve_incident
from commands.update import post_update
from tests.unit.commands.conftest import CONFIG, LEASE, ROOM, Clock, war_room
from tests.unit.fakes import FakeDatabase, same_state


def test_a_request_records_a_draft_job_for_the_rooms_incident(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock)
    now = clock.advance(minutes=3)
    scheduled = request_postmortem(
        user_id="U2", channel_id=ROOM, uow=db, clock=clock, settings=CONFIG, lease=LEASE
    )
    [job] = db.jobs("postmortem")
    assert (job.id, job.incident_id) == (scheduled.job_id, number)
    assert job.payload == {"requested_by": "U2", "requested_at": now.isoformat()}
    assert (job.due_at, job.claimed_until, job.attempts) == (now, now + LEASE, 1)
    before = db.snapshot()
    with pytest.raises(NotInWarRoom):
        request_postmortem(user_id="U2", channel_id="CX", uow=db, clock=clock, settings=CONFIG, lease=LEASE)
    assert same_state(before, db.snapshot())


def test_the_data_comes_from_the_records_and_names_from_the_people_store(
    db: FakeDatabase, clock: Clock
) -> None:
    number = war_room(db, clock)
    clock.advance(minutes=2)
    assign_role(
        Assign(role="commander", user_id="U2"),
        user_id="U1",
        channel_id=ROOM,
        uow=db,
        clock=clock,
        settings=CONFIG,
        lease=LEASE,
    )
    clock.advance(minutes=10)
    post_update(
        PostUpdate(message="Mitigated", status="monitoring"),
        user_id="U2",
        channel_id=ROOM,
        uow=db,
        clock=clock,
        settings=CONFIG,
        lease=LEASE,
    )
    clock.advance(minutes=10)
    resolve_incident(
        Resolve(), user_id="U2", channel_id=ROOM, uow=db, clock=clock, settings=CONFIG, lease=LEASE
    )
    remember_names({"U2": "Grace"}, uow=db)
    pm = load_postmortem(number, uow=db, settings=CONFIG)
    assert pm is not None
    assert [r.user for r in pm.roles] == ["U2"] and pm.names == {"U2": "Grace"}
    assert pm.durations.to_acknowledge is not None and pm.durations.to_acknowledge.total_seconds() == 120
    assert pm.durations.to_resolve is not None and pm.durations.to_resolve.total_seconds() == 22 * 60
    assert [u.text for u in pm.updates] == ["Mitigated"] and pm.updates_within_cadence == 1
    assert load_postmortem(number + 1, uow=db, settings=CONFIG) is None
