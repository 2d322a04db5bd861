"""Edits on the in-memory store: what changes, what the room's job is told, refusals that change nothing."""

from __future__ import annotations

import pytest

from bot.ops.config import IncidentConfig, ServiceConfig, TypeConfig
from commands.edit import edit_incident, edit_prefill
from commands.errors import NotInWarRoom, RepeatedDelivery, UsageError
from commands.incidents import Scheduled
from commands.parsing import Edit
from commands.permissions import NO_ADMINS, Admins, PermissionDenied
from tests.unit.commands.conftest import CONFIG, LEASE, ROOM, Clock, war_room
from tests.unit.fakes import FakeDatabase, same_state

TRIAGE = IncidentConfig(
    types={"default": TypeConfig(), "security": TypeConfig(description="Breaches", private=True)},
    services={"checkout": ServiceConfig(), "payments": ServiceConfig()},
    rename_rooms=True,
    admins=["U9"],
)


class Admin:
    def is_admin(self, user_id: str) -> bool | None:
        return user_id == "U9"


def edit(
    db: FakeDatabase,
    clock: Clock,
    cmd: Edit,
    *,
    user: str = "U2",
    settings: IncidentConfig = CONFIG,
    admins: Admins = NO_ADMINS,
    delivery_key: str | None = None,
) -> Scheduled | None:
    return edit_incident(
        cmd,
        user_id=user,
        channel_id=ROOM,
        uow=db,
        clock=clock,
        settings=settings,
        lease=LEASE,
        admins=admins,
        delivery_key=delivery_key,
    )


def test_a_new_title_is_recorded_with_its_event_and_a_job_that_does_not_rename_by_default(
    db: FakeDatabase, clock: Clock
) -> None:
    number = war_room(db, clock)
    now = clock.advance(minutes=5)
    scheduled = edit(db, clock, Edit(title="Checkout 504s for EU shoppers"))
    assert scheduled is not None and scheduled.incident.title == "Checkout 504s for EU shoppers"
    incident = db.incident(number)
    assert incident.title == "Checkout 504s for EU shoppers"
    assert (incident.last_activity_at, incident.stale_due_at) == (now, now + CONFIG.stale_after("sev2"))
    [event] = db.events(number, "edited")
    assert (event.actor, event.occurred_at) == ("U2", now)
    assert event.text == "Edited: Title: Checkout is timing out → Checkout 504s for EU shoppers"
    assert event.data == {
        "changes": {"title": {"from": "Checkout is timing out", "to": "Checkout 504s for EU shoppers"}}
    }
    [job] = db.jobs("edit")
    assert job.id == scheduled.job_id
    assert job.payload == {
        "event_id": event.id,
        "by": "U2",
        "changes": [
            {
                "field": "title",
                "label": "Title",
                "from": "Checkout is timing out",
                "to": "Checkout 504s for EU shoppers",
            }
        ],
        "rename": False,
        "at": now.isoformat(),
    }


def test_rename_rooms_renames_only_for_a_new_title(db: FakeDatabase, clock: Clock) -> None:
    war_room(db, clock)
    edit(db, clock, Edit(description="EU only"), settings=TRIAGE)
    edit(db, clock, Edit(title="EU checkout down"), settings=TRIAGE)
    edit(db, clock, Edit(title="EU checkout down again"))  # rename_rooms off
    assert [j.payload["rename"] for j in db.jobs("edit")] == [False, True, False]


def test_the_form_changes_description_type_and_services_at_once(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock)
    cmd = Edit(
        title="Checkout is timing out",  # unchanged: not listed
        description="p99 over 5s",
        incident_type="security",
        services=("checkout", "payments", "checkout"),
    )
    edit(db, clock, cmd, settings=TRIAGE)
    incident = db.incident(number)
    assert (incident.description, incident.incident_type, incident.services) == (
        "p99 over 5s",
        "security",
        ["checkout", "payments"],
    )
    [event] = db.events(number, "edited")
    assert event.text == (
        "Edited: Description changed; Type: none → security; Services: none → checkout, payments"
    )
    assert [c["field"] for c in db.jobs("edit")[0].payload["changes"]] == [
        "description",
        "incident_type",
        "services",
    ]
    # To the default type and no services.
    edit(db, clock, Edit(incident_type="default", services=(), description=""), settings=TRIAGE)
    incident = db.incident(number)
    assert (incident.incident_type, incident.services, incident.description) == ("default", [], "")
    assert db.events(number, "edited")[-1].text == (
        "Edited: Description cleared; Type: security → default; Services: checkout, payments → none"
    )
    before = db.snapshot()
    assert edit(db, clock, Edit(incident_type="default", services=()), settings=TRIAGE) is None
    assert same_state(before, db.snapshot())


def test_nothing_changed_records_nothing(db: FakeDatabase, clock: Clock) -> None:
    war_room(db, clock)
    before = db.snapshot()
    assert edit(db, clock, Edit(title="Checkout is timing out", description="")) is None
    assert same_state(before, db.snapshot())
    # A form's delivery is kept, so Slack's retry of it is not answered twice.
    assert edit(db, clock, Edit(title="Checkout is timing out"), delivery_key="view:1") is None
    with pytest.raises(RepeatedDelivery):
        edit(db, clock, Edit(title="Checkout is timing out"), delivery_key="view:1")
    assert db.jobs("edit") == [] and db.events(kind="edited") == []


def test_refusals_change_nothing(db: FakeDatabase, clock: Clock) -> None:
    war_room(db, clock, roles={"commander": "U3"})
    before = db.snapshot()
    with pytest.raises(PermissionDenied) as denied:
        edit(db, clock, Edit(title="Renamed"), user="U2")
    assert denied.value.message == "Only the commander or an admin may edit INC-1. The commander is <@U3>."
    for cmd, fragment in (
        (Edit(title=" "), "cannot be empty"),
        (Edit(title="x" * 201), "limit is 200"),
        (Edit(description="x" * 3001), "limit is 3000"),
        (Edit(incident_type="breach"), "Unknown type `breach`. Types: default, security."),
        (Edit(services=("checkout", "search")), "Unknown service `search`. Services: checkout, payments."),
    ):
        with pytest.raises(UsageError) as refused:
            edit(db, clock, cmd, user="U3", settings=TRIAGE)
        assert fragment in refused.value.message
    with pytest.raises(UsageError, match="Types: none are configured"):
        edit(db, clock, Edit(incident_type="security"), user="U3")
    with pytest.raises(NotInWarRoom):
        edit_incident(
            Edit(title="x"), user_id="U3", channel_id="CX", uow=db, clock=clock, settings=CONFIG, lease=LEASE
        )
    assert same_state(before, db.snapshot())


def test_the_commander_and_admins_may_edit(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock, roles={"commander": "U3"})
    edit(db, clock, Edit(title="By the commander"), user="U3", settings=TRIAGE)
    edit(db, clock, Edit(title="By an admin"), user="U9", settings=TRIAGE, admins=Admin())
    assert db.incident(number).title == "By an admin"
    assert [e.actor for e in db.events(number, "edited")] == ["U3", "U9"]


def test_a_repeated_form_delivery_acts_once(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock)
    edit(db, clock, Edit(title="Once"), delivery_key="view:2")
    before = db.snapshot()
    with pytest.raises(RepeatedDelivery):
        edit(db, clock, Edit(title="Once"), delivery_key="view:2")
    assert same_state(before, db.snapshot())
    assert len(db.events(number, "edited")) == 1


def test_the_form_is_prefilled_only_for_someone_who_may_edit(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock, roles={"commander": "U3"})
    with db() as tx:
        incident = tx.incidents.get(number)
        assert incident is not None
        incident.description, incident.incident_type, incident.services = "p99", "security", ["checkout"]
        tx.commit()
    prefill = edit_prefill(user_id="U3", channel_id=ROOM, uow=db, settings=CONFIG, admins=NO_ADMINS)
    assert (prefill.title, prefill.description, prefill.incident_type, list(prefill.services)) == (
        "Checkout is timing out",
        "p99",
        "security",
        ["checkout"],
    )
    with pytest.raises(PermissionDenied):
        edit_prefill(user_id="U2", channel_id=ROOM, uow=db, settings=CONFIG, admins=NO_ADMINS)
