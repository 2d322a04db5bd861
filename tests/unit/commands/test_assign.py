"""Assigning roles on the in-memory store: a handover keeps history; refusals and repeats change nothing."""

from __future__ import annotations

import pytest

from commands.assign import RoleTaken, assign_role
from commands.errors import RepeatedDelivery
from commands.parsing import Assign
from commands.permissions import PermissionDenied
from tests.unit.commands.conftest import CONFIG, LEASE, ROOM, Clock, war_room
from tests.unit.fakes import FakeDatabase, same_state


def assign(
    db: FakeDatabase, clock: Clock, role: str, user: str, *, by: str = "U1", **options: object
) -> object:
    return assign_role(
        Assign(role=role, user_id=user),
        user_id=by,
        channel_id=ROOM,
        uow=db,
        clock=clock,
        settings=CONFIG,
        lease=LEASE,
        **options,
    )


def test_taking_a_vacant_commander_role_records_it_stops_the_ask_and_schedules_the_briefing(
    db: FakeDatabase, clock: Clock
) -> None:
    number = war_room(db, clock)
    now = clock.advance(minutes=3)
    scheduled = assign(db, clock, "commander", "U2")
    incident = db.incident(number)
    [role] = incident.roles
    assert (role.role, role.user_id, role.assigned_by, role.assigned_at, role.ended_at) == (
        "commander",
        "U2",
        "U1",
        now,
        None,
    )
    assert role.incident_id == number and role.id is not None
    assert incident.commander_due_at is None
    [event] = db.events(number, "role_assigned")
    assert (event.text, event.data) == (
        "Commander: <@U2>",
        {"role": "commander", "user": "U2", "previous": None},
    )
    [job] = db.jobs("assign")
    assert job.id == scheduled.job_id
    assert job.payload == {"role": "commander", "user": "U2", "previous": None, "by": "U1", "resolved": False}
    assert scheduled.incident.roles == {"commander": "U2"}


def test_a_handover_ends_the_previous_assignment_and_says_who_held_it(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock, roles={"comms": "U2"})
    now = clock.advance(minutes=5)
    scheduled = assign(db, clock, "comms", "U3", by="U2")
    old, new = db.incident(number).roles
    assert (old.user_id, old.ended_at) == ("U2", now)
    assert (new.user_id, new.ended_at) == ("U3", None)
    [event] = db.events(number, "role_assigned")
    assert event.text == "Comms: <@U3> (was <@U2>)"
    assert db.jobs("assign")[0].payload["previous"] == "U2"
    assert scheduled.incident.handovers == {"comms": "U2"}


def test_assigning_the_holder_again_records_only_the_delivery(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock, roles={"comms": "U2"})
    scheduled = assign(db, clock, "comms", "U2", delivery_key="form:1")
    assert scheduled.job_id is None and db.jobs() == [] and db.events(number) == []
    assert list(db.committed.deliveries) == ["form:1"]


def test_a_repeated_delivery_changes_nothing(db: FakeDatabase, clock: Clock) -> None:
    war_room(db, clock)
    assign(db, clock, "comms", "U2", delivery_key="form:1")
    before = db.snapshot()
    with pytest.raises(RepeatedDelivery):
        assign(db, clock, "comms", "U3", delivery_key="form:1")
    assert same_state(before, db.snapshot())


def test_vacant_only_takes_a_free_role_and_refuses_a_held_one_without_change(
    db: FakeDatabase, clock: Clock
) -> None:
    number = war_room(db, clock)
    assign(db, clock, "commander", "U2", by="U2", vacant_only=True)
    assert [r.user_id for r in db.incident(number).roles] == ["U2"]
    before = db.snapshot()
    with pytest.raises(RoleTaken, match="<@U2> is already the commander"):
        assign(db, clock, "commander", "U3", by="U3", vacant_only=True, delivery_key="button:2")
    assert same_state(before, db.snapshot())  # not even the delivery


def test_handing_over_command_follows_the_rule_and_a_refusal_changes_nothing(
    db: FakeDatabase, clock: Clock
) -> None:
    number = war_room(db, clock, roles={"commander": "U2"})
    before = db.snapshot()
    with pytest.raises(PermissionDenied):
        assign(db, clock, "commander", "U3", by="U3")
    assert same_state(before, db.snapshot())
    assign(db, clock, "commander", "U3", by="U2")  # the commander may hand over
    assert [(r.user_id, r.ended_at is None) for r in db.incident(number).roles] == [
        ("U2", False),
        ("U3", True),
    ]


def test_the_first_commander_acknowledges_and_a_handover_keeps_that_time(
    db: FakeDatabase, clock: Clock
) -> None:
    number = war_room(db, clock)
    first = clock.advance(minutes=4)
    assign(db, clock, "scribe", "U4")
    assert db.incident(number).acknowledged_at is None
    assign(db, clock, "commander", "U3")
    clock.advance(minutes=10)
    assign(db, clock, "commander", "U5", by="U3")
    assert db.incident(number).acknowledged_at == first
