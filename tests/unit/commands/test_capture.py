"""Reactions captured as pins and action items, on the in-memory store: recorded as a job, then once."""

from __future__ import annotations

from dataclasses import asdict

from commands.capture import Marked, capture_plans, record_reaction
from commands.jobs import JobKind, StepContext
from commands.ports import ChatMessage
from commands.views import view_of
from tests.unit.commands.conftest import CONFIG, LEASE, ROOM, Clock, war_room
from tests.unit.fakes import FakeDatabase, same_state

TS = "1772370000.000100"


class Slack:
    """The two questions a capture asks Slack: the message as it is now, and its link."""

    def __init__(self, message: ChatMessage | None) -> None:
        self.found = message

    def message(self, _channel: str, _ts: str) -> ChatMessage | None:
        return self.found

    def permalink(self, channel: str, ts: str) -> str:
        return f"https://slack/{channel}/{ts}"


def marked(action: str = "pin", *, removed: bool = False, user: str = "U2") -> Marked:
    return Marked(action=action, emoji="pushpin", channel=ROOM, ts=TS, user=user, removed=removed)


def run_capture(db: FakeDatabase, clock: Clock, mark: Marked, slack: Slack, job_id: int) -> None:
    [(name, step)] = capture_plans(db, clock, lambda text: text.strip())[JobKind.CAPTURE]
    with db() as tx:
        incident = tx.incidents.get_by_channel(ROOM)
        assert incident is not None
        view = view_of(incident)
    ctx = StepContext(
        job_id=job_id,
        kind=JobKind.CAPTURE,
        payload=asdict(mark),
        attempts=1,
        done=(),
        incident=view,
        posts={},
        chat=slack,  # type: ignore[arg-type]
        presenter=None,  # type: ignore[arg-type]
        settings=CONFIG,
        clock=clock,
    )
    assert name == "capture"
    step(ctx)


def test_a_reaction_in_a_war_room_records_a_capture_job_once_per_delivery(
    db: FakeDatabase, clock: Clock
) -> None:
    number = war_room(db, clock)
    job_id = record_reaction(marked(), uow=db, clock=clock, lease=LEASE, delivery="ev:1")
    [job] = db.jobs(JobKind.CAPTURE)
    assert (job.id, job.incident_id, job.payload) == (job_id, number, asdict(marked()))
    before = db.snapshot()
    assert record_reaction(marked(), uow=db, clock=clock, lease=LEASE, delivery="ev:1") is None
    elsewhere = Marked(action="pin", emoji="pushpin", channel="CX", ts=TS, user="U2", removed=False)
    assert record_reaction(elsewhere, uow=db, clock=clock, lease=LEASE, delivery="ev:2") is None
    assert same_state(before, db.snapshot())


def test_a_captured_pin_is_recorded_once_and_its_removal_takes_it_off(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock)
    slack = Slack(ChatMessage(author="U3", text=" DB at 100% ", reactions={"pushpin": ["U2"]}))
    run_capture(db, clock, marked(), slack, job_id=7)
    run_capture(db, clock, marked(), slack, job_id=7)  # a resumed job records nothing twice
    [pin] = db.events(number, "pinned")
    assert (pin.actor, pin.text, pin.permalink) == ("U3", "DB at 100%", f"https://slack/{ROOM}/{TS}")
    run_capture(db, clock, marked(removed=True), slack, job_id=8)
    assert db.events(number, "pinned") == []


def test_a_reaction_taken_back_or_a_deleted_message_records_nothing(db: FakeDatabase, clock: Clock) -> None:
    war_room(db, clock)
    before = db.snapshot()
    run_capture(db, clock, marked(), Slack(ChatMessage(author="U3", text="x", reactions={})), job_id=7)
    run_capture(db, clock, marked("action"), Slack(None), job_id=8)
    assert same_state(before, db.snapshot())


def test_a_captured_action_item_is_recorded_for_whoever_reacted(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock)
    slack = Slack(ChatMessage(author="U3", text="Add an alert", reactions={"pushpin": ["U4"]}))
    run_capture(db, clock, marked("action", user="U4"), slack, job_id=9)
    [item] = db.committed.action_items
    assert (item.incident_id, item.text, item.created_by, item.owner) == (number, "Add an alert", "U4", None)
    assert [e.kind for e in db.events(number)] == ["action_item"]
