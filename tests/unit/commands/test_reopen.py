"""Reopening on the in-memory store: back to the first status, clocks running again, the draft outdated."""

from __future__ import annotations

import pytest

from commands.errors import NotInWarRoom, UsageError
from commands.incidents import Scheduled
from commands.jobs import JobKind
from commands.parsing import Reopen, Resolve
from commands.permissions import NO_ADMINS, Admins, PermissionDenied
from commands.reopen import NotResolved, reopen_incident
from commands.resolve import resolve_incident
from tests.unit.commands.conftest import CONFIG, LEASE, ROOM, Clock, war_room
from tests.unit.fakes import FakeDatabase, same_state


def resolve(db: FakeDatabase, clock: Clock, user: str = "U3") -> None:
    resolve_incident(
        Resolve(summary="Rolled back"),
        user_id=user,
        channel_id=ROOM,
        uow=db,
        clock=clock,
        settings=CONFIG,
        lease=LEASE,
    )


def reopen(
    db: FakeDatabase, clock: Clock, reason: str = "", *, user: str = "U3", admins: Admins = NO_ADMINS
) -> Scheduled:
    return reopen_incident(
        Reopen(reason=reason),
        user_id=user,
        channel_id=ROOM,
        uow=db,
        clock=clock,
        settings=CONFIG,
        lease=LEASE,
        admins=admins,
    )


def test_reopen_restores_the_first_status_and_restarts_the_clocks(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock, severity="sev1", roles={"commander": "U3"})
    resolve(db, clock)
    resolved_at = clock.now()
    with db() as tx:
        incident = tx.incidents.get(number)
        assert incident is not None
        incident.archive_due_at = resolved_at + CONFIG.archive_after  # as the archive timer sets it
        incident.reminders_since_update = 3
        tx.commit()
    now = clock.advance(hours=2)
    scheduled = reopen_incident(
        Reopen(reason="Errors are back"),
        user_id="U3",
        channel_id=ROOM,
        uow=db,
        clock=clock,
        settings=CONFIG,
        lease=LEASE,
    )
    incident = db.incident(number)
    assert incident.status == "investigating" == CONFIG.statuses[0]
    assert (incident.resolved_at, incident.resolved_by, incident.resolution_summary) == (None, None, None)
    assert incident.next_update_due_at == now + CONFIG.update_every("sev1")
    assert incident.reminders_since_update == 0
    assert incident.archive_due_at is None
    assert incident.stale_due_at == now + CONFIG.stale_after("sev1") and incident.last_activity_at == now
    assert incident.postmortem_outdated_at == now
    assert incident.commander_due_at is None, "the commander still holds the role"
    [event] = db.events(number, "reopened")
    assert (event.actor, event.text, event.occurred_at) == ("U3", "Reopened: Errors are back", now)
    assert event.data == {
        "reason": "Errors are back",
        "resolved_at": resolved_at.isoformat(),
        "resolved_by": "U3",
        "resolution_summary": "Rolled back",
        "duplicate_of": None,
    }
    [job] = db.jobs(JobKind.REOPEN)
    assert job.id == scheduled.job_id
    assert job.payload == {
        "event_id": event.id,
        "by": "U3",
        "reason": "Errors are back",
        "at": now.isoformat(),
    }


class Admin:
    def is_admin(self, user_id: str) -> bool | None:
        return user_id == "U9"


def test_without_a_commander_the_commander_reminder_resumes_too(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock, roles={"commander": "U3"})
    resolve(db, clock)
    with db() as tx:
        incident = tx.incidents.get(number)
        assert incident is not None
        incident.roles[0].ended_at = clock.now()  # the commander stepped down after the resolution
        tx.commit()
    now = clock.advance(minutes=30)
    reopen(db, clock, user="U9", admins=Admin())
    assert db.incident(number).commander_due_at == now + CONFIG.commander_timeout("sev2")


def test_resolve_again_clears_the_outdated_mark_and_schedules_a_second_draft(
    db: FakeDatabase, clock: Clock
) -> None:
    number = war_room(db, clock, roles={"commander": "U3"})
    resolve(db, clock)
    clock.advance(minutes=10)
    reopen(db, clock)
    assert db.incident(number).postmortem_outdated_at is not None
    clock.advance(minutes=10)
    resolve(db, clock)
    incident = db.incident(number)
    assert incident.status == "resolved" and incident.postmortem_outdated_at is None
    assert len(db.jobs(JobKind.POSTMORTEM)) == 2
    # The second resolution is posted anew, not taken for the first one's posts.
    assert [j.payload for j in db.jobs(JobKind.RESOLVE)] == [{}, {"reopened": True}]
    assert db.events(number, "resolved")[-1].occurred_at == clock.now()


def test_refusals_change_nothing(db: FakeDatabase, clock: Clock) -> None:
    war_room(db, clock, roles={"commander": "U3"})
    before = db.snapshot()
    with pytest.raises(NotResolved) as open_one:
        reopen(db, clock)
    assert open_one.value.message == "INC-1 is not resolved (it is investigating): nothing to reopen."
    assert same_state(before, db.snapshot())
    resolve(db, clock)
    before = db.snapshot()
    with pytest.raises(PermissionDenied) as denied:
        reopen(db, clock, user="U2")
    assert denied.value.message == "Only the commander or an admin may reopen INC-1. The commander is <@U3>."
    with pytest.raises(UsageError):
        reopen(db, clock, "x" * 2001)
    with pytest.raises(NotInWarRoom):
        reopen_incident(
            Reopen(), user_id="U3", channel_id="CX", uow=db, clock=clock, settings=CONFIG, lease=LEASE
        )
    assert same_state(before, db.snapshot())


def test_reopening_a_duplicate_makes_it_an_incident_of_its_own_again(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock, roles={"commander": "U3"})
    resolve(db, clock)
    with db() as tx:
        incident = tx.incidents.get(number)
        assert incident is not None
        incident.duplicate_of = 99  # as `/incident duplicate INC-99` leaves it
        tx.commit()
    reopen(db, clock, "Not the same after all")
    assert db.incident(number).duplicate_of is None
    [event] = db.events(number, "reopened")
    assert event.data["duplicate_of"] == 99, "the timeline keeps what it was a duplicate of"
