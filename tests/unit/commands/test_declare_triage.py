"""Declaring with a type, services, impact x urgency and drills: what the incident records."""

from __future__ import annotations

import pytest

from bot.ops.config import IncidentConfig
from commands.escalate import escalate
from commands.parsing import Declare, Escalate
from tests.declare_one import declare_incident
from tests.unit.commands.conftest import LEASE, Clock, war_room
from tests.unit.fakes import FakeDatabase

TRIAGE = IncidentConfig.model_validate(
    {
        "types": {
            "default": {"description": "Anything else"},
            "security": {"private": True, "invite": ["U7", "S9"]},
            "public": {"private": False},
            "gameday": {"drill": True},
        },
        "services": {"checkout": {"invite": ["U8"]}, "api": {}},
        "priority": {"high": {"high": "sev1", "low": "sev2"}, "low": {"low": "sev4"}},
    }
)


def declared(db: FakeDatabase, clock: Clock, cmd: Declare, config: IncidentConfig = TRIAGE) -> object:
    scheduled = declare_incident(
        cmd, user_id="U1", channel_id="CGENERAL", uow=db, clock=clock, settings=config, lease=LEASE
    )
    return db.incident(scheduled.incident.id)


def test_type_services_and_answers_are_recorded_with_the_declared_event(
    db: FakeDatabase, clock: Clock
) -> None:
    cmd = Declare(
        title="Key leaked",
        incident_type="security",
        services=("checkout", "api"),
        impact="high",
        urgency="low",
    )
    incident = declared(db, clock, cmd)
    assert (incident.incident_type, incident.services, incident.impact, incident.urgency) == (
        "security",
        ["checkout", "api"],
        "high",
        "low",
    )
    [event] = db.events(incident.id)
    assert event.data == {
        "severity": "sev2",
        "private": True,
        "type": "security",
        "services": ["checkout", "api"],
        "impact": "high",
        "urgency": "low",
    }


def test_no_type_means_the_default_type_when_one_is_configured(db: FakeDatabase, clock: Clock) -> None:
    assert declared(db, clock, Declare(title="x")).incident_type == "default"
    assert declared(db, clock, Declare(title="x"), IncidentConfig()).incident_type is None


@pytest.mark.parametrize(
    ("cmd", "private"),
    [
        (Declare(title="x", incident_type="security"), True),  # the type's private applies
        (Declare(title="x", incident_type="public"), False),
        (Declare(title="x", incident_type="public", private=True), True),  # --private wins over a public type
        (Declare(title="x", private=True), True),
        (Declare(title="x"), False),
    ],
)
def test_private_comes_from_the_type_unless_the_declarer_said_private(
    db: FakeDatabase, clock: Clock, cmd: Declare, private: bool
) -> None:
    assert declared(db, clock, cmd).private is private


@pytest.mark.parametrize(
    ("cmd", "severity"),
    [
        (Declare(title="x", severity="sev3", impact="high", urgency="high"), "sev3"),  # chosen directly wins
        (Declare(title="x", impact="high", urgency="high"), "sev1"),
        (Declare(title="x", impact="low", urgency="low"), "sev4"),
        (Declare(title="x", impact="medium", urgency="high"), "sev4"),  # no such cell: the default
        (Declare(title="x", impact="high"), "sev4"),  # half an answer: the default
    ],
)
def test_severity_chosen_else_impact_by_urgency_else_the_default(
    db: FakeDatabase, clock: Clock, cmd: Declare, severity: str
) -> None:
    incident = declared(db, clock, cmd)
    assert incident.severity == severity
    assert incident.next_update_due_at == clock.now() + TRIAGE.update_every(severity)


def test_a_drill_comes_from_the_flag_or_the_type(db: FakeDatabase, clock: Clock) -> None:
    assert declared(db, clock, Declare(title="x", drill=True)).drill is True
    assert declared(db, clock, Declare(title="x", incident_type="gameday")).drill is True
    plain = declared(db, clock, Declare(title="x"))
    assert plain.drill is False
    [event] = db.events(plain.id)
    assert "drill" not in event.data
    drill = declared(db, clock, Declare(title="Failover", drill=True))
    [event] = db.events(drill.id)
    assert event.data["drill"] is True and event.text == "Declared a drill, sev4: Failover"


def test_invitees_are_the_types_then_each_services_once() -> None:
    assert TRIAGE.invitees("security", ["checkout", "api"]) == ["U7", "S9", "U8"]
    assert TRIAGE.invitees(None, ["checkout", "checkout"]) == ["U8"]
    assert TRIAGE.invitees("retired-type", ["retired-service"]) == []


def test_escalating_a_drill_records_who_would_be_paged_and_pages_nobody(
    db: FakeDatabase, clock: Clock
) -> None:
    number = war_room(db, clock)
    with db() as tx:
        tx.incidents.update_columns(number, {"drill": True})
        tx.commit()
    scheduled = escalate(
        Escalate(severity="sev1", users=("U2",), groups=("S1",)),
        user_id="U1",
        channel_id="C1",
        paged_users=["U2", "U3"],
        uow=db,
        clock=clock,
        settings=TRIAGE,
        lease=LEASE,
    )
    event = db.events(number)[-1]
    assert event.kind == "escalated"
    assert (event.data["paged"], event.data["not_paged"], event.data["drill"]) == ([], ["U2", "U3"], True)
    assert "nobody was paged" in event.text
    job = db.jobs()[-1]
    assert job.id == scheduled.job_id
    assert (job.payload["paged"], job.payload["drill"]) == ([], True)
    assert db.incident(number).severity == "sev1"  # the escalation itself is recorded


def test_a_type_name_must_fit_the_column_it_is_recorded_in() -> None:
    with pytest.raises(ValueError, match="longer than 40 characters"):
        IncidentConfig.model_validate({"types": {"x" * 41: {}}})
