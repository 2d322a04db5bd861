"""Escalating on the in-memory store: severity, cadence, who is paged, and the guarded lowering."""

from __future__ import annotations

import pytest

from commands.errors import AlreadyResolved, RepeatedDelivery, TryAgain, UsageError
from commands.escalate import NotPaged, escalate, room_to_join
from commands.incidents import Scheduled
from commands.parsing import Escalate
from commands.permissions import PermissionDenied
from tests.unit.commands.conftest import CONFIG, LEASE, ROOM, Clock, war_room
from tests.unit.fakes import FakeDatabase, same_state


def run(
    db: FakeDatabase, clock: Clock, cmd: Escalate, *, by: str = "U1", paged: tuple[str, ...] = ()
) -> object:
    return escalate(
        cmd, user_id=by, channel_id=ROOM, paged_users=paged, uow=db, clock=clock, settings=CONFIG, lease=LEASE
    )


def test_raising_the_severity_and_paging_records_both_and_restarts_the_cadence(
    db: FakeDatabase, clock: Clock
) -> None:
    number = war_room(db, clock, severity="sev3")
    now = clock.advance(minutes=7)
    scheduled = run(
        db, clock, Escalate(severity="sev1", users=("U5",), groups=("S1",)), paged=("U5", "U6", "U5")
    )
    incident = db.incident(number)
    assert incident.severity == "sev1"
    assert incident.next_update_due_at == now + CONFIG.update_every("sev1")
    [changed] = db.events(number, "severity_changed")
    assert (changed.text, changed.data) == ("Severity: sev3 → sev1", {"from": "sev3", "to": "sev1"})
    [escalated] = db.events(number, "escalated")
    assert escalated.text == "Severity sev3 → sev1; paged <@U5>, <!subteam^S1>"
    assert escalated.data["paged"] == ["U5", "U6"]
    [job] = db.jobs("escalate")
    assert job.id == scheduled.job_id
    assert job.payload["event_id"] == escalated.id is not None
    assert (job.payload["severity_changed"], job.payload["to"], job.payload["paged"]) == (
        True,
        "sev1",
        ["U5", "U6"],
    )


def test_paging_alone_keeps_the_severity_and_its_cadence(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock)
    due = db.incident(number).next_update_due_at
    clock.advance(minutes=3)
    run(db, clock, Escalate(users=("U5",)), paged=("U5",))
    assert (db.incident(number).severity, db.incident(number).next_update_due_at) == ("sev2", due)
    assert db.events(number, "severity_changed") == [] and len(db.jobs("escalate")) == 1


def test_lowering_the_severity_is_for_the_commander_and_a_refusal_changes_nothing(
    db: FakeDatabase, clock: Clock
) -> None:
    number = war_room(db, clock, severity="sev1", roles={"commander": "U2"})
    before = db.snapshot()
    with pytest.raises(PermissionDenied):
        run(db, clock, Escalate(severity="sev3"), by="U3")
    assert same_state(before, db.snapshot())
    run(db, clock, Escalate(severity="sev3"), by="U2")
    assert db.incident(number).severity == "sev3"
    run(db, clock, Escalate(severity="sev2"), by="U3")  # raising is anyone's
    assert db.incident(number).severity == "sev2"


def test_nothing_to_do_or_a_resolved_incident_is_refused_without_change(
    db: FakeDatabase, clock: Clock
) -> None:
    number = war_room(db, clock)
    before = db.snapshot()
    with pytest.raises(UsageError):
        run(db, clock, Escalate(severity="sev2"))
    assert same_state(before, db.snapshot())
    with db() as tx:
        incident = tx.incidents.get(number)
        assert incident is not None
        incident.status = "resolved"
        tx.commit()
    before = db.snapshot()
    with pytest.raises(AlreadyResolved):
        run(db, clock, Escalate(severity="sev1"))
    assert same_state(before, db.snapshot())


def join(db: FakeDatabase, clock: Clock, number: int, user: str, key: str | None = None) -> Scheduled:
    return room_to_join(incident_id=number, user_id=user, uow=db, clock=clock, lease=LEASE, delivery_key=key)


def test_only_someone_paged_may_join_the_room(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock)
    run(db, clock, Escalate(users=("U5",)), paged=("U5",))
    before = db.snapshot()
    with pytest.raises(NotPaged):
        join(db, clock, number, "U6")
    with pytest.raises(NotPaged):
        join(db, clock, number + 1, "U5")
    assert same_state(before, db.snapshot())
    scheduled = join(db, clock, number, "U5", key="interaction:T1")
    assert scheduled.incident.channel_id == ROOM
    [job] = db.jobs("join")
    assert (job.id, job.payload) == (scheduled.job_id, {"user": "U5"})
    with pytest.raises(RepeatedDelivery):
        join(db, clock, number, "U5", key="interaction:T1")
    assert len(db.jobs("join")) == 1, "Slack's retry of the click records nothing more"
    with db() as tx:
        incident = tx.incidents.get(number)
        assert incident is not None
        incident.channel_id = None
        tx.commit()
    with pytest.raises(TryAgain):
        join(db, clock, number, "U5")
