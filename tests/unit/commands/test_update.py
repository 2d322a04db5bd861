"""Stakeholder updates on the in-memory store: status, the reminder clock, and refusals."""

from __future__ import annotations

import pytest

from commands.errors import AlreadyResolved, NotInWarRoom, RepeatedDelivery, UsageError
from commands.parsing import PostUpdate
from commands.update import last_update, post_update
from tests.unit.commands.conftest import CONFIG, LEASE, ROOM, Clock, war_room
from tests.unit.fakes import FakeDatabase, same_state


def update(db: FakeDatabase, clock: Clock, cmd: PostUpdate, **options: object) -> object:
    return post_update(
        cmd, user_id="U2", channel_id=ROOM, uow=db, clock=clock, settings=CONFIG, lease=LEASE, **options
    )


def test_an_update_records_status_and_message_resets_the_reminders_and_schedules_the_posts(
    db: FakeDatabase, clock: Clock
) -> None:
    number = war_room(db, clock, roles={"commander": "U3"})
    with db() as tx:
        incident = tx.incidents.get(number)
        assert incident is not None
        incident.reminders_since_update = 2
        tx.commit()
    now = clock.advance(minutes=20)
    scheduled = update(db, clock, PostUpdate(message="Rolled back", status="monitoring"))
    incident = db.incident(number)
    assert (incident.status, incident.last_update_at, incident.reminders_since_update) == (
        "monitoring",
        now,
        0,
    )
    assert incident.next_update_due_at == now + CONFIG.update_every("sev2")
    [changed] = db.events(number, "status_changed")
    assert changed.data == {"from": "investigating", "to": "monitoring"}
    [posted] = db.events(number, "update_posted")
    assert (posted.text, posted.actor) == ("Rolled back", "U2")
    # The two reminders it answers are kept: reports count it late, and the second one as a silent cadence.
    assert posted.data == {"status": "monitoring", "severity": "sev2", "on_time": True, "reminders": 2}
    [job] = db.jobs("update")
    assert job.id == scheduled.job_id
    assert job.payload == {
        "event_id": posted.id,
        "message": "Rolled back",
        "by": "U2",
        "status": "monitoring",
        "status_changed": True,
        "commander": "U3",
        "at": now.isoformat(),
    }
    assert last_update(channel_id=ROOM, uow=db) == ("Rolled back", "monitoring")


def test_a_late_update_is_recorded_as_late(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock)
    clock.advance(hours=2)
    update(db, clock, PostUpdate(message="Still looking"))
    [posted] = db.events(number, "update_posted")
    assert posted.data["on_time"] is False and db.events(number, "status_changed") == []
    assert posted.data["reminders"] == 0  # it beat the tick: no reminder went out before it


def test_refused_updates_change_nothing(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock)
    before = db.snapshot()
    with pytest.raises(UsageError):
        update(db, clock, PostUpdate(message="  "), delivery_key="form:1")
    with pytest.raises(NotInWarRoom):
        post_update(
            PostUpdate(message="x"),
            user_id="U2",
            channel_id="CX",
            uow=db,
            clock=clock,
            settings=CONFIG,
            lease=LEASE,
        )
    assert same_state(before, db.snapshot())
    update(db, clock, PostUpdate(message="First"), delivery_key="form:1")
    before = db.snapshot()
    with pytest.raises(RepeatedDelivery):
        update(db, clock, PostUpdate(message="First"), delivery_key="form:1")
    assert same_state(before, db.snapshot())
    with db() as tx:
        incident = tx.incidents.get(number)
        assert incident is not None
        incident.status = "resolved"
        tx.commit()
    before = db.snapshot()
    with pytest.raises(AlreadyResolved):
        update(db, clock, PostUpdate(message="Late"))
    assert same_state(before, db.snapshot())


def test_last_update_of_a_room_without_one_is_empty(db: FakeDatabase, clock: Clock) -> None:
    war_room(db, clock)
    assert last_update(channel_id=ROOM, uow=db) == ("", "investigating")


def test_the_first_move_to_monitoring_mitigates_and_a_second_keeps_the_first(
    db: FakeDatabase, clock: Clock
) -> None:
    number = war_room(db, clock)
    clock.advance(minutes=5)
    update(db, clock, PostUpdate(message="Found it", status="identified"))
    assert db.incident(number).mitigated_at is None
    first = clock.advance(minutes=5)
    update(db, clock, PostUpdate(message="Rolled back", status="monitoring"))
    clock.advance(minutes=5)
    update(db, clock, PostUpdate(message="Back again", status="identified"))
    update(db, clock, PostUpdate(message="Fixed again", status="monitoring"))
    assert db.incident(number).mitigated_at == first
