"""Stale nudges and room archiving on the in-memory store: due once, moved by people, never by the bot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, cast

import pytest

from commands import archive
from commands.action import add_action_item
from commands.archive import archive_room, post_archive_notice
from commands.assign import assign_role
from commands.errors import ChannelNotFound, ChatRefused, RepeatedDelivery
from commands.escalate import escalate
from commands.job_runner import JobRunner
from commands.jobs import JobKind, StepContext, waits_for
from commands.note import add_note
from commands.parsing import AddActionItem, Assign, Declare, Escalate, Note, PostUpdate, Resolve
from commands.ports import Chat, Message, PostRef, Presenter
from commands.postmortem import request_postmortem
from commands.reminders import snooze
from commands.reminders import tick as reminder_tick
from commands.resolve import resolve_incident
from commands.stale import post_stale_notice
from commands.status import incident_status
from commands.timeline import PinnedMessage, pin_message
from commands.timers import tick
from commands.update import post_update
from commands.views import view_of
from tests.declare_one import declare_incident
from tests.unit.commands.conftest import CONFIG, LEASE, ROOM, START, Clock, war_room
from tests.unit.fakes import FakeDatabase, same_state

STALE = CONFIG.stale_after("sev2")  # 24h by default


def run_tick(db: FakeDatabase, clock: Clock) -> list[int]:
    return tick(uow=db, clock=clock, settings=CONFIG, lease=LEASE).job_ids


def resolve(db: FakeDatabase, clock: Clock, user: str = "U2", key: str | None = None) -> None:
    resolve_incident(
        Resolve(),
        user_id=user,
        channel_id=ROOM,
        uow=db,
        clock=clock,
        settings=CONFIG,
        lease=LEASE,
        delivery_key=key,
    )


def test_declaring_sets_the_stale_time_and_resolving_swaps_it_for_the_archive_time(
    db: FakeDatabase, clock: Clock
) -> None:
    scheduled = declare_incident(
        Declare(title="Checkout down", severity="sev1"),
        user_id="U1",
        channel_id=None,
        uow=db,
        clock=clock,
        settings=CONFIG,
        lease=LEASE,
    )
    declared = db.incident(scheduled.incident.id)
    assert declared.stale_due_at == START + CONFIG.stale_after("sev1")
    assert declared.archive_due_at is None and declared.last_activity_at is None
    number = war_room(db, clock, roles={"commander": "U2"})
    now = clock.advance(hours=2)
    resolve(db, clock)
    resolved = db.incident(number)
    assert resolved.stale_due_at is None
    assert resolved.archive_due_at == now + CONFIG.archive_after


def test_the_resolve_button_pressed_twice_resolves_once(db: FakeDatabase, clock: Clock) -> None:
    war_room(db, clock, roles={"commander": "U2"})
    resolve(db, clock, key="click:1")
    before = db.snapshot()
    with pytest.raises(RepeatedDelivery):
        resolve(db, clock, key="click:1")
    assert same_state(before, db.snapshot())
    assert len(db.jobs(JobKind.RESOLVE)) == 1


def _pin(db: FakeDatabase, clock: Clock) -> None:
    message = PinnedMessage(channel_id=ROOM, ts="1772370000.000100", author="U3", text="x", permalink=None)
    pin_message(message, pinned_by="U2", uow=db, clock=clock, settings=CONFIG)


# Every kind of human activity in the room, as its feature records it.
ACTIVITY: dict[str, Callable[[FakeDatabase, Clock], object]] = {
    "update": lambda db, clock: post_update(
        PostUpdate("Rolling back"),
        user_id="U2",
        channel_id=ROOM,
        uow=db,
        clock=clock,
        settings=CONFIG,
        lease=LEASE,
    ),
    "note": lambda db, clock: add_note(
        Note("Saw a spike"), user_id="U2", channel_id=ROOM, uow=db, clock=clock, settings=CONFIG
    ),
    "pin": _pin,
    "action item": lambda db, clock: add_action_item(
        AddActionItem("Add an alert"), user_id="U2", channel_id=ROOM, uow=db, clock=clock, settings=CONFIG
    ),
    "role change": lambda db, clock: assign_role(
        Assign(role="comms", user_id="U3"),
        user_id="U2",
        channel_id=ROOM,
        uow=db,
        clock=clock,
        settings=CONFIG,
        lease=LEASE,
    ),
    "escalation": lambda db, clock: escalate(
        Escalate(severity="sev1"),
        paged_users=[],
        user_id="U2",
        channel_id=ROOM,
        uow=db,
        clock=clock,
        settings=CONFIG,
        lease=LEASE,
    ),
    "snooze": lambda db, clock: snooze(
        channel_id=ROOM, user_id="U2", choice="1h", uow=db, clock=clock, settings=CONFIG
    ),
    "status": lambda db, clock: incident_status(channel_id=ROOM, uow=db, settings=CONFIG, clock=clock),
    "postmortem": lambda db, clock: request_postmortem(
        user_id="U2", channel_id=ROOM, uow=db, clock=clock, settings=CONFIG, lease=LEASE
    ),
}


@pytest.mark.parametrize("activity", sorted(ACTIVITY))
def test_human_activity_moves_the_stale_time(db: FakeDatabase, clock: Clock, activity: str) -> None:
    number = war_room(db, clock, roles={"commander": "U2"})
    now = clock.advance(hours=23)
    ACTIVITY[activity](db, clock)
    incident = db.incident(number)
    assert incident.stale_due_at == now + CONFIG.stale_after(incident.severity)
    assert incident.last_activity_at == now
    clock.advance(hours=2)  # past the declaration's due time, not past the activity's
    assert run_tick(db, clock) == []


def test_the_bots_own_reminders_are_not_activity(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock, roles={"commander": "U2"})
    due = db.incident(number).stale_due_at
    clock.advance(hours=5)
    assert reminder_tick(uow=db, clock=clock, settings=CONFIG, lease=LEASE).job_ids
    assert db.incident(number).stale_due_at == due


def test_with_nothing_due_the_tick_records_nothing(db: FakeDatabase, clock: Clock) -> None:
    war_room(db, clock, roles={"commander": "U2"})
    clock.advance(hours=23)
    before = db.snapshot()
    assert run_tick(db, clock) == []
    assert same_state(before, db.snapshot())


def test_a_quiet_incident_is_nudged_once_then_again_a_full_period_later(
    db: FakeDatabase, clock: Clock
) -> None:
    number = war_room(db, clock, roles={"commander": "U2"})
    due = db.incident(number).stale_due_at
    assert due is not None
    now = clock.advance(hours=30)  # late (a restart): one nudge now, not one per missed period
    [job_id] = run_tick(db, clock)
    [job] = db.jobs(JobKind.STALE)
    assert job.id == job_id
    assert job.payload == {"due": due.isoformat(), "target": "U2", "quiet_since": START.isoformat()}
    [event] = db.events(number, "stale_nudge")
    assert (event.actor, event.occurred_at) == (None, now)
    assert db.incident(number).stale_due_at == now + STALE
    assert run_tick(db, clock) == []  # claimed: the same due time never fires twice
    clock.advance(hours=24)
    run_tick(db, clock)
    second = db.jobs(JobKind.STALE)[-1]
    assert second.payload["quiet_since"] == START.isoformat()  # still quiet since the declaration
    assert len(db.jobs(JobKind.STALE)) == 2


def test_without_a_commander_the_declarer_is_nudged(db: FakeDatabase, clock: Clock) -> None:
    war_room(db, clock, declared_by="U7")
    clock.advance(hours=24)
    run_tick(db, clock)
    [job] = db.jobs(JobKind.STALE)
    assert job.payload["target"] == "U7"


def test_a_resolved_incident_still_due_is_cleared_without_a_nudge(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock, roles={"commander": "U2"})
    with db() as tx:  # a note committed just after the resolve set it again
        tx.incidents.update_columns(number, {"status": "resolved", "stale_due_at": clock.now()})
        tx.commit()
    clock.advance(minutes=1)
    assert run_tick(db, clock) == []
    assert db.incident(number).stale_due_at is None


def test_a_resolved_incident_is_archived_once_after_archive_after(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock, roles={"commander": "U2"})
    resolved_at = clock.advance(hours=1)
    resolve(db, clock)
    clock.advance(days=7, seconds=-1)
    assert run_tick(db, clock) == []
    clock.advance(seconds=1)
    [job_id] = run_tick(db, clock)
    [job] = db.jobs(JobKind.ARCHIVE)
    assert job.id == job_id
    assert job.payload == {"due": (resolved_at + CONFIG.archive_after).isoformat(), "requested_by": "U2"}
    assert db.incident(number).archive_due_at is None
    clock.advance(days=30)
    assert run_tick(db, clock) == []


def test_a_reopened_incident_is_not_archived(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock, roles={"commander": "U2"})
    resolve(db, clock)
    with db() as tx:  # a reopen that did not clear the archive time: the claim's status check still holds
        tx.incidents.update_columns(number, {"status": "investigating"})
        tx.commit()
    clock.advance(days=8)
    assert run_tick(db, clock) == []
    assert db.jobs(JobKind.ARCHIVE) == []
    assert db.incident(number).archive_due_at is None


@dataclass
class RecordingChat:
    """Just what the timers' steps call: posts and archives, with a refusal to raise if set."""

    posts: list[tuple[str, Message]] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    notified: list[tuple[str, str, str]] = field(default_factory=list)
    refuse_post: Exception | None = None

    def post(self, channel: str, message: Message) -> PostRef:
        if self.refuse_post is not None:
            raise self.refuse_post
        self.posts.append((channel, message))
        return PostRef(channel, f"{len(self.posts)}.0")

    def archive(self, channel: str) -> None:
        self.archived.append(channel)

    def notify(self, channel: str, user: str, text: str) -> None:
        self.notified.append((channel, user, text))


class Words:
    def stale_notice(self, _incident: Any, payload: dict[str, Any]) -> Message:
        return Message(text=f"quiet {payload['target']}", event_type="incident_stale")

    def archive_notice(self, _incident: Any) -> Message:
        return Message(text="archiving", event_type="incident_archived")


def context(
    db: FakeDatabase, clock: Clock, number: int, chat: RecordingChat, payload: dict[str, Any]
) -> StepContext:
    with db() as tx:
        incident = tx.incidents.get(number)
        assert incident is not None
        view = view_of(incident)
    return StepContext(
        job_id=1,
        kind="test",
        payload=payload,
        attempts=1,
        done=(),
        incident=view,
        posts={},
        chat=cast(Chat, chat),
        presenter=cast(Presenter, Words()),
        settings=CONFIG,
        clock=clock,
    )


def test_the_nudge_is_posted_in_the_room_unless_resolved_since(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock, roles={"commander": "U2"})
    chat = RecordingChat()
    payload = {"due": "d", "target": "U2", "quiet_since": START.isoformat()}
    outcome = post_stale_notice(context(db, clock, number, chat, payload))
    assert outcome.post == ("stale:d", PostRef(ROOM, "1.0"))
    assert [(c, m.event_type) for c, m in chat.posts] == [(ROOM, "incident_stale")]
    resolve(db, clock)
    assert post_stale_notice(context(db, clock, number, chat, payload)).post is None
    assert len(chat.posts) == 1


def test_the_archive_steps_tell_the_room_then_archive_it(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock, roles={"commander": "U2"})
    resolve(db, clock)
    chat = RecordingChat()
    ctx = context(db, clock, number, chat, {"due": "d"})
    assert post_archive_notice(ctx).post == ("archive_notice", PostRef(ROOM, "1.0"))
    outcome = archive_room(ctx)
    assert chat.archived == [ROOM]
    assert outcome.incident == {"archived_at": clock.now()}
    # Archived by hand already: no notice (Slack refuses it), and the archive call counts as done.
    chat.refuse_post = ChannelNotFound("chat.postMessage", "is_archived")
    assert post_archive_notice(replace(ctx, posts={})).post is None
    chat.refuse_post = ChannelNotFound("chat.postMessage", "channel_not_found")
    with pytest.raises(ChatRefused):
        post_archive_notice(replace(ctx, posts={}))


def test_a_room_reopened_after_the_claim_is_left_alone(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock, roles={"commander": "U2"})  # open: as if reopened after the claim
    chat = RecordingChat()
    ctx = context(db, clock, number, chat, {"due": "d"})
    assert post_archive_notice(ctx).post is None and archive_room(ctx).incident == {}
    assert chat.posts == [] and chat.archived == []


def test_an_incident_whose_room_was_never_made_has_nothing_to_archive(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock, roles={"commander": "U2"})
    resolve(db, clock)
    chat = RecordingChat()
    ctx = context(db, clock, number, chat, {"due": "d"})
    ctx = replace(ctx, incident=replace(ctx.incident, channel_id=None))
    assert post_archive_notice(ctx).post is None and archive_room(ctx).incident == {}
    assert chat.posts == [] and chat.archived == []


def test_a_nudge_waits_for_nobody_but_archiving_waits_for_the_postmortem_upload() -> None:
    assert not waits_for(JobKind.STALE, JobKind.UPDATE)
    assert waits_for(JobKind.ARCHIVE, JobKind.POSTMORTEM)


@pytest.mark.parametrize("code", ["restricted_action", "cant_archive_general", "not_in_channel"])
def test_a_refused_archive_gives_up_once_and_the_room_is_told(
    db: FakeDatabase, clock: Clock, code: str
) -> None:
    number = war_room(db, clock, roles={"commander": "U2"})
    resolve(db, clock)
    with db() as tx:  # a week on, the resolution's posts and the draft are long done
        for earlier in tx.jobs.pending_for(number):
            tx.jobs.update_columns(earlier.id, {"finished_at": clock.now(), "due_at": None})
        tx.commit()
    clock.advance(days=7)
    [job_id] = run_tick(db, clock)

    class Refusing(RecordingChat):
        def archive(self, _channel: str) -> None:
            raise ChatRefused("conversations.archive", code)

    chat = Refusing()
    runner = JobRunner(
        uow=db,
        chat=cast(Chat, chat),
        presenter=cast(Presenter, Words()),
        settings=CONFIG,
        clock=clock,
        plans=archive.PLANS,
        lease=LEASE,
    )
    try:
        assert not runner.run(job_id, claimed=True)
    finally:
        runner.close()
    [job] = db.jobs(JobKind.ARCHIVE)
    assert job.finished_at is not None and job.last_error == f"conversations.archive: {code}"
    assert db.incident(number).archived_at is None
    said = [m for _, m in chat.posts if m.event_type == "incident_job_failed"]
    assert len(said) == 1 and "could not archive the war room" in said[0].text
    assert chat.notified == [(ROOM, "U2", said[0].text)]
    clock.advance(days=1)
    assert run_tick(db, clock) == []  # given up: never claimed again
