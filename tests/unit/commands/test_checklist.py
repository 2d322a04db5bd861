"""Checklists on the in-memory store: recorded with the declaration, ticked and unticked once."""

from __future__ import annotations

import pytest

from bot.ops.config import IncidentConfig, SeverityConfig, TypeConfig
from commands.checklist import tick_checklist
from commands.declare import DeclareRequest, declare_incidents
from commands.errors import RepeatedDelivery
from commands.parsing import Declare, TickChecklist
from commands.postmortem import load_postmortem, people_in
from commands.records import BotPost, ChecklistItem
from commands.views import ChecklistLine
from tests.unit.commands.conftest import LEASE, ROOM, Clock, war_room
from tests.unit.fakes import FakeDatabase, same_state

SEVERITIES = {
    "sev1": SeverityConfig(update_every="15m", checklist=["Page the database on-call"]),  # type: ignore[arg-type]
    "sev2": SeverityConfig(update_every="30m"),  # type: ignore[arg-type]
}
CONFIG = IncidentConfig(
    severities=SEVERITIES,
    types={
        "default": TypeConfig(checklist=["Open a status page incident", "Name a commander"]),
        "security": TypeConfig(checklist=["Tell the CISO"]),
    },
)


def test_the_type_then_the_severity_items_make_the_checklist() -> None:
    assert CONFIG.checklist(None, "sev1") == [
        ("Open a status page incident", "type:default"),
        ("Name a commander", "type:default"),
        ("Page the database on-call", "severity:sev1"),
    ]
    assert CONFIG.checklist("security", "sev2") == [("Tell the CISO", "type:security")]
    assert IncidentConfig().checklist(None, "sev1") == []


def test_declaring_records_the_items_and_hands_them_to_the_provisioning_job(
    db: FakeDatabase, clock: Clock
) -> None:
    requests = [
        DeclareRequest(Declare(title="Checkout down", severity="sev1"), "U1", "CGENERAL"),
        DeclareRequest(Declare(title="Search slow", severity="sev2"), "U2", "CGENERAL"),
    ]
    first, second = declare_incidents(requests, uow=db, clock=clock, settings=CONFIG, lease=LEASE)
    assert first is not None and second is not None
    assert not isinstance(first, Exception) and not isinstance(second, Exception)
    items = db.checklist(first.incident.id)
    assert [(i.position, i.text, i.source, i.done_by) for i in items] == [
        (0, "Open a status page incident", "type:default", None),
        (1, "Name a commander", "type:default", None),
        (2, "Page the database on-call", "severity:sev1", None),
    ]
    assert [i.text for i in db.checklist(second.incident.id)] == [
        "Open a status page incident",
        "Name a commander",
    ]
    job = next(j for j in db.jobs("provision") if j.incident_id == first.incident.id)
    assert [ChecklistLine.from_payload(line).text for line in job.payload["checklist"]] == [
        i.text for i in items
    ]
    assert first.fresh is not None and first.fresh.payload == job.payload


def test_no_checklist_leaves_the_provisioning_payload_empty(db: FakeDatabase, clock: Clock) -> None:
    request = DeclareRequest(Declare(title="Checkout down"), "U1", "CGENERAL")
    declare_incidents([request], uow=db, clock=clock, settings=IncidentConfig(), lease=LEASE)
    [job] = db.jobs("provision")
    assert job.payload == {} and db.checklist(job.incident_id) == []


def seeded(db: FakeDatabase, clock: Clock) -> int:
    """A war room with three checklist items and its posted checklist message."""
    incident = war_room(db, clock)
    with db() as tx:
        tx.checklist.insert_many(
            [
                ChecklistItem(incident_id=incident, position=n, text=t, source="type:default")
                for n, t in enumerate("ABC")
            ]
        )
        tx.posts.insert_many(
            [
                BotPost(
                    incident_id=incident,
                    purpose="checklist",
                    channel_id=ROOM,
                    ts="1.5",
                    posted_at=clock.now(),
                )
            ]
        )
        tx.commit()
    return incident


def tick(
    db: FakeDatabase, clock: Clock, cmd: TickChecklist, user: str = "U2", key: str | None = None
) -> object:
    return tick_checklist(
        cmd,
        user_id=user,
        channel_id=ROOM,
        uow=db,
        clock=clock,
        settings=CONFIG,
        lease=LEASE,
        delivery_key=key,
    )


def test_ticking_records_who_and_when_and_schedules_the_message_update(
    db: FakeDatabase, clock: Clock
) -> None:
    incident = seeded(db, clock)
    clock.advance(minutes=3)
    tick(db, clock, TickChecklist(checked=(0, 2)), key="interaction:T1")
    assert db.incident(incident).stale_due_at == clock.now() + CONFIG.stale_after("sev2"), "activity"
    a, b, c = db.checklist(incident)
    assert (a.done_by, a.done_at, b.done_by, c.done_by) == ("U2", clock.now(), None, "U2")
    assert [(e.kind, e.actor, e.data) for e in db.events(incident, "checklist_checked")] == [
        ("checklist_checked", "U2", {"position": 0, "text": "A"}),
        ("checklist_checked", "U2", {"position": 2, "text": "C"}),
    ]
    [job] = db.jobs("checklist")
    assert (job.payload["channel"], job.payload["ts"]) == (ROOM, "1.5")
    lines = [ChecklistLine.from_payload(line) for line in job.payload["checklist"]]
    assert [(line.text, line.done_by, line.done_at) for line in lines] == [
        ("A", "U2", clock.now()),
        ("B", None, None),
        ("C", "U2", clock.now()),
    ]
    before = db.snapshot()
    with pytest.raises(RepeatedDelivery):
        tick(db, clock, TickChecklist(checked=(0, 2)), key="interaction:T1")
    assert same_state(before, db.snapshot()), "Slack's retry acts once"


def test_ticking_a_ticked_item_keeps_its_first_ticker_and_unticking_clears_it(
    db: FakeDatabase, clock: Clock
) -> None:
    incident = seeded(db, clock)
    tick(db, clock, TickChecklist(checked=(1,)), user="U2")
    ticked_at = clock.now()
    clock.advance(minutes=1)
    scheduled = tick(db, clock, TickChecklist(checked=(1, 7)), user="U3")  # 7: no such item
    assert scheduled.job_id is None  # type: ignore[attr-defined]
    assert (db.checklist(incident)[1].done_by, db.checklist(incident)[1].done_at) == ("U2", ticked_at)
    tick(db, clock, TickChecklist(unchecked=(1,)), user="U3")
    assert (db.checklist(incident)[1].done_by, db.checklist(incident)[1].done_at) == (None, None)
    [event] = db.events(incident, "checklist_unchecked")
    assert (event.actor, event.text) == ("U3", "Unchecked: B")
    assert len(db.jobs("checklist")) == 2


def test_the_postmortem_data_lists_done_and_undone_items(db: FakeDatabase, clock: Clock) -> None:
    incident = seeded(db, clock)
    tick(db, clock, TickChecklist(checked=(1,)), user="U4")
    pm = load_postmortem(incident, uow=db, settings=CONFIG)
    assert pm is not None
    assert [(c.text, c.done_by) for c in pm.checklist_done] == [("B", "U4")]
    assert [c.text for c in pm.checklist_undone] == ["A", "C"]
    assert "U4" in people_in(pm), "whoever ticked an item is named in the draft"
