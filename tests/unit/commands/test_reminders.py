"""The reminder tick and snooze on the in-memory store: what is due fires once; refusals change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commands.errors import AlreadyResolved, RepeatedDelivery
from commands.reminders import snooze, tick
from tests.unit.commands.conftest import CONFIG, LEASE, ROOM, Clock, war_room
from tests.unit.fakes import FakeDatabase, same_state


def run_tick(db: FakeDatabase, clock: Clock) -> object:
    return tick(uow=db, clock=clock, settings=CONFIG, lease=LEASE)


def test_with_nothing_due_the_tick_records_nothing(db: FakeDatabase, clock: Clock) -> None:
    war_room(db, clock, roles={"commander": "U2"})
    before = db.snapshot()
    result = run_tick(db, clock)
    assert (result.job_ids, result.due) == ([], 0)
    assert same_state(before, db.snapshot())


def test_an_overdue_update_is_reminded_once_then_a_cadence_later_escalated(
    db: FakeDatabase, clock: Clock
) -> None:
    number = war_room(db, clock, roles={"commander": "U2", "comms": "U3"})
    due = db.incident(number).next_update_due_at
    assert due is not None
    now = clock.advance(minutes=45)  # late: one reminder now, the next a full cadence later
    result = run_tick(db, clock)
    [job] = db.jobs("reminder")
    assert (result.job_ids, result.due) == ([job.id], 1)
    assert job.payload == {
        "due": due.isoformat(),
        "count": 1,
        "target": "U3",
        "escalate": False,
        "commander": "U2",
        "comms": "U3",
        "last_update_at": None,
    }
    [event] = db.events(number, "reminder_sent")
    assert (event.text, event.actor) == ("Update reminder #1", None)
    incident = db.incident(number)
    assert (incident.next_update_due_at, incident.reminders_since_update) == (
        now + CONFIG.update_every("sev2"),
        1,
    )
    assert run_tick(db, clock).job_ids == []  # claimed: the same due time never fires twice
    clock.advance(minutes=30)
    run_tick(db, clock)
    second = db.jobs("reminder")[-1]
    assert (second.payload["count"], second.payload["escalate"]) == (2, True)
    assert db.events(number, "reminder_sent")[-1].text == "Update reminder #2 (escalated)"


def test_a_room_without_a_commander_is_asked_once(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock)
    clock.advance(minutes=11)
    run_tick(db, clock)
    [job] = db.jobs("commander_reminder")
    assert job.incident_id == number
    [event] = db.events(number, "commander_reminder")
    assert event.text == "Asked for a commander"
    assert db.incident(number).commander_due_at is None
    clock.advance(minutes=11)
    run_tick(db, clock)
    assert len(db.jobs("commander_reminder")) == 1


def test_a_commander_check_that_finds_one_asks_nobody(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock, roles={"commander": "U2"})
    with db() as tx:
        incident = tx.incidents.get(number)
        assert incident is not None
        incident.commander_due_at = clock.now()
        tx.commit()
    clock.advance(minutes=1)
    result = run_tick(db, clock)
    assert (result.job_ids, result.due) == ([], 1)
    assert db.incident(number).commander_due_at is None and db.events(number) == []


def test_a_resolved_incident_still_due_is_cleared_without_a_reminder(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock, roles={"commander": "U2"})
    with db() as tx:
        incident = tx.incidents.get(number)
        assert incident is not None
        incident.status = "resolved"
        tx.commit()
    clock.advance(hours=1)
    run_tick(db, clock)
    assert db.incident(number).next_update_due_at is None
    assert db.jobs() == [] and db.events(number) == []


def test_snooze_moves_the_next_reminder_and_records_who(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock)
    now = clock.advance(minutes=29)
    ref, until = snooze(
        channel_id=ROOM, user_id="U2", choice="1h", uow=db, clock=clock, settings=CONFIG, delivery_key="b:1"
    )
    assert (ref, until) == (f"INC-{number}", now + timedelta(hours=1))
    assert db.incident(number).next_update_due_at == until
    [event] = db.events(number, "reminder_snoozed")
    assert (event.actor, event.data) == ("U2", {"until": until.isoformat()})
    before = db.snapshot()
    with pytest.raises(RepeatedDelivery):
        snooze(
            channel_id=ROOM,
            user_id="U2",
            choice="15m",
            uow=db,
            clock=clock,
            settings=CONFIG,
            delivery_key="b:1",
        )
    with pytest.raises(KeyError):
        snooze(channel_id=ROOM, user_id="U2", choice="2d", uow=db, clock=clock, settings=CONFIG)
    assert same_state(before, db.snapshot())


def test_snoozing_a_resolved_incident_changes_nothing(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock)
    with db() as tx:
        incident = tx.incidents.get(number)
        assert incident is not None
        incident.status = "resolved"
        tx.commit()
    before = db.snapshot()
    with pytest.raises(AlreadyResolved):
        snooze(
            channel_id=ROOM,
            user_id="U2",
            choice="15m",
            uow=db,
            clock=clock,
            settings=CONFIG,
            delivery_key="b:2",
        )
    assert same_state(before, db.snapshot())


def test_the_reminder_goes_to_comms_then_the_commander_then_a_person_who_declared() -> None:
    from commands.reminders import reminder_target

    assert reminder_target({"comms": "U3", "commander": "U2"}, "U1") == "U3"
    assert reminder_target({"commander": "U2"}, "source:alertmanager") == "U2"
    assert reminder_target({}, "U1") == "U1"
    assert reminder_target({}, "source:alertmanager") is None  # the room is asked, not the alerting system
