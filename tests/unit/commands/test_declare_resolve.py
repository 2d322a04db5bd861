"""Declare and resolve on the in-memory store: what each records, and that a refusal records nothing."""

from __future__ import annotations

import pytest

from bot.ops.config import IncidentConfig
from commands.declare import DeclareRequest, declare_incidents
from commands.errors import AlreadyResolved, NotInWarRoom
from commands.limits import RateLimited
from commands.parsing import Declare, Resolve
from commands.permissions import PermissionDenied
from commands.resolve import resolve_incident
from commands.status import incident_status, list_open_incidents
from tests.declare_one import declare_incident
from tests.unit.commands.conftest import CONFIG, LEASE, ROOM, Clock, war_room
from tests.unit.fakes import FakeDatabase, same_state


def declare(db: FakeDatabase, clock: Clock, user: str = "U1", **options: object) -> object:
    settings = options.pop("settings", CONFIG)
    return declare_incident(
        Declare(title="Checkout is timing out", severity="sev1"),
        user_id=user,
        channel_id="CGENERAL",
        uow=db,
        clock=clock,
        settings=settings,
        lease=LEASE,
    )


def test_declare_records_the_incident_its_declared_event_and_a_claimed_provisioning_job(
    db: FakeDatabase, clock: Clock
) -> None:
    scheduled = declare_incident(
        Declare(title="Checkout is timing out", severity="sev1", private=True),
        user_id="U1",
        channel_id="CGENERAL",
        uow=db,
        clock=clock,
        settings=CONFIG,
        lease=LEASE,
        description="p99 over 5s",
    )
    incident = db.incident(scheduled.incident.id)
    now = clock.now()
    assert (incident.title, incident.description, incident.severity) == (
        "Checkout is timing out",
        "p99 over 5s",
        "sev1",
    )
    assert (incident.status, incident.private, incident.declared_by, incident.declared_in) == (
        "investigating",
        True,
        "U1",
        "CGENERAL",
    )
    assert incident.channel_id is None and incident.roles == []
    assert incident.next_update_due_at == now + CONFIG.update_every("sev1")
    assert incident.commander_due_at == now + CONFIG.commander_timeout("sev1")
    [event] = db.events(incident.id)
    assert (event.kind, event.actor, event.occurred_at) == ("declared", "U1", now)
    assert event.data == {"severity": "sev1", "private": True}
    [job] = db.jobs()
    assert (job.id, job.kind, job.incident_id) == (scheduled.job_id, "provision", incident.id)
    assert (job.attempts, job.due_at, job.claimed_until, job.finished_at) == (1, now, now + LEASE, None)
    assert scheduled.incident.ref == incident.ref == f"INC-{incident.id}"


def test_declare_without_a_severity_takes_the_lowest(db: FakeDatabase, clock: Clock) -> None:
    scheduled = declare_incident(
        Declare(title="Slow search"),
        user_id="U1",
        channel_id=None,
        uow=db,
        clock=clock,
        settings=CONFIG,
        lease=LEASE,
    )
    assert db.incident(scheduled.incident.id).severity == CONFIG.severity_names()[-1]


def test_a_burst_commits_once_and_a_repeated_delivery_records_nothing(db: FakeDatabase, clock: Clock) -> None:
    first = DeclareRequest(Declare(title="A"), "U1", "CGENERAL", delivery_key="view:1")
    again = DeclareRequest(Declare(title="A"), "U1", "CGENERAL", delivery_key="view:1")
    other = DeclareRequest(Declare(title="B"), "U2", "CGENERAL", delivery_key="view:2")
    results = declare_incidents([first, again, other], uow=db, clock=clock, settings=CONFIG, lease=LEASE)
    assert results[1] is None
    assert [r.incident.title for r in results if r is not None and not isinstance(r, RateLimited)] == [
        "A",
        "B",
    ]
    assert db.commits == 1 and len(db.jobs("provision")) == 2
    before = db.snapshot()
    # Slack delivers the first form again, later: it declares nothing and counts against nobody.
    [retried] = declare_incidents([first], uow=db, clock=clock, settings=CONFIG, lease=LEASE)
    assert retried is None
    assert same_state(before, db.snapshot())


def test_over_the_rate_limit_a_declare_is_refused_and_records_nothing(db: FakeDatabase, clock: Clock) -> None:
    settings = IncidentConfig(declare_rate_limit="2/1m")
    requests = [
        DeclareRequest(Declare(title=f"T{n}"), "U1", None, delivery_key=f"view:{n}") for n in range(3)
    ]
    results = declare_incidents(requests, uow=db, clock=clock, settings=settings, lease=LEASE)
    assert isinstance(results[2], RateLimited) and "2 per 1m" in str(results[2])
    assert len(db.committed.incidents) == 2
    assert "view:2" not in db.committed.deliveries  # so Slack's retry is refused again, not skipped
    before = db.snapshot()
    with pytest.raises(RateLimited):
        declare(db, clock, settings=settings)
    assert same_state(before, db.snapshot())
    declare(db, clock, user="U2", settings=settings)  # the limit is per person
    clock.advance(minutes=1)
    declare(db, clock, settings=settings)  # and per window
    assert [i.declared_by for i in db.committed.incidents.values()] == ["U1", "U1", "U2", "U1"]


def test_a_repeated_delivery_gives_its_declare_back_to_the_allowance(db: FakeDatabase, clock: Clock) -> None:
    settings = IncidentConfig(declare_rate_limit="1/1m")
    request = DeclareRequest(Declare(title="A"), "U1", None, delivery_key="view:1")
    declare_incidents([request], uow=db, clock=clock, settings=settings, lease=LEASE)
    clock.advance(minutes=2)
    [repeat, new] = declare_incidents(
        [request, DeclareRequest(Declare(title="B"), "U1", None, delivery_key="view:2")],
        uow=db,
        clock=clock,
        settings=settings,
        lease=LEASE,
    )
    assert repeat is None and not isinstance(new, RateLimited) and new is not None


def test_resolve_records_the_resolution_and_schedules_the_posts_then_the_draft(
    db: FakeDatabase, clock: Clock
) -> None:
    number = war_room(db, clock, roles={"commander": "U2"})
    now = clock.advance(minutes=40)
    scheduled = resolve_incident(
        Resolve(summary="Rolled back"),
        user_id="U2",
        channel_id=ROOM,
        uow=db,
        clock=clock,
        settings=CONFIG,
        lease=LEASE,
    )
    incident = db.incident(number)
    assert (incident.status, incident.resolved_at, incident.resolved_by) == ("resolved", now, "U2")
    assert incident.resolution_summary == "Rolled back"
    assert incident.next_update_due_at is None and incident.commander_due_at is None
    [event] = db.events(number, "resolved")
    assert (event.actor, event.text, event.occurred_at) == ("U2", "Resolved: Rolled back", now)
    [resolve] = db.jobs("resolve")
    [draft] = db.jobs("postmortem")
    assert scheduled.job_id == resolve.id and scheduled.then == (draft.id,)
    assert draft.payload == {"requested_by": "U2", "requested_at": now.isoformat()}
    assert scheduled.incident.is_resolved and scheduled.fresh is not None


def test_resolve_by_someone_the_rule_does_not_cover_changes_nothing(db: FakeDatabase, clock: Clock) -> None:
    war_room(db, clock, roles={"commander": "U2"})
    before = db.snapshot()
    with pytest.raises(PermissionDenied, match="commander is <@U2>"):
        resolve_incident(
            Resolve(), user_id="U3", channel_id=ROOM, uow=db, clock=clock, settings=CONFIG, lease=LEASE
        )
    assert same_state(before, db.snapshot())


def test_resolving_twice_is_refused_and_changes_nothing(db: FakeDatabase, clock: Clock) -> None:
    war_room(db, clock, roles={"commander": "U2"})
    resolve_incident(
        Resolve(), user_id="U2", channel_id=ROOM, uow=db, clock=clock, settings=CONFIG, lease=LEASE
    )
    before = db.snapshot()
    with pytest.raises(AlreadyResolved):
        resolve_incident(
            Resolve(), user_id="U2", channel_id=ROOM, uow=db, clock=clock, settings=CONFIG, lease=LEASE
        )
    assert same_state(before, db.snapshot())


def test_resolve_outside_a_war_room_is_refused(db: FakeDatabase, clock: Clock) -> None:
    war_room(db, clock, roles={"commander": "U2"})
    before = db.snapshot()
    with pytest.raises(NotInWarRoom):
        resolve_incident(
            Resolve(), user_id="U2", channel_id="COTHER", uow=db, clock=clock, settings=CONFIG, lease=LEASE
        )
    assert same_state(before, db.snapshot())


def test_status_and_the_open_list_leave_private_incidents_out_of_the_list(
    db: FakeDatabase, clock: Clock
) -> None:
    public = war_room(db, clock)
    clock.advance(minutes=1)
    war_room(db, clock, channel="C2", private=True)
    clock.advance(minutes=1)
    newer = war_room(db, clock, channel="C3")
    assert incident_status(channel_id="C2", uow=db, settings=CONFIG).private
    assert [v.id for v in list_open_incidents(uow=db)] == [newer, public]
    assert db.commits == 3  # reading commits nothing
