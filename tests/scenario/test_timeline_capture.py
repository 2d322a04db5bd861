"""The timeline writes itself: system events, pinned messages, the shortcut, notes; retries count once."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.ops.config import IncidentConfig
from bot.slack.manifest import CallbackId
from tests.scenario.conftest import Harness


def room_with_message(h: Harness, text: str = "DB primary CPU at 100%, failing over") -> tuple[str, str]:
    h.command("declare sev2 Checkout is timing out")
    room = str(h.room(1).id)
    h.emu.channels[room].members.add("U3")
    ts = h.emu.post_as_user(room, "U3", text)
    return room, ts


def test_pushpin_adds_message_with_author_text_time_and_link(harness: Harness) -> None:
    h = harness
    room, ts = room_with_message(h)
    assert h.emu.react(h.url, user_id="U1", channel_id=room, ts=ts).status == 200
    h.settle()
    (pin,) = [e for e in h.timeline(1) if e.kind == "pinned"]
    assert pin.actor == "U3" and pin.text == "DB primary CPU at 100%, failing over"
    assert pin.occurred_at == datetime.fromtimestamp(float(ts), tz=UTC)
    assert pin.permalink and ts.replace(".", "") in pin.permalink
    assert pin.data["pinned_by"] == "U1"

    h.emu.react(h.url, user_id="U1", channel_id=room, ts=ts, removed=True)
    h.settle()
    assert "pinned" not in h.timeline_kinds(1)


def test_retried_event_is_recorded_once(harness: Harness) -> None:
    h = harness
    room, ts = room_with_message(h)
    event = {
        "type": "reaction_added",
        "user": "U1",
        "reaction": "pushpin",
        "item": {"type": "message", "channel": room, "ts": ts},
    }
    h.emu.add_reaction(room, ts, "pushpin", "U1")
    for retry in (None, 1, 2, 3):
        assert h.emu.send_event(h.url, event, event_id="Ev0001", retry_num=retry).status == 200
    h.settle()
    assert h.timeline_kinds(1).count("pinned") == 1
    with h.bot.runtime.uow() as tx:
        assert not tx.deliveries.first_time("event:Ev0001", datetime.now(UTC))


def test_other_reactions_and_other_channels_are_ignored(harness: Harness) -> None:
    h = harness
    room, ts = room_with_message(h)
    h.emu.react(h.url, user_id="U1", channel_id=room, ts=ts, reaction="eyes")
    outside = h.emu.post_as_user(h.general, "U2", "lunch?")
    h.emu.react(h.url, user_id="U1", channel_id=h.general, ts=outside)
    h.settle()
    assert "pinned" not in h.timeline_kinds(1)
    assert h.emu.calls_to("conversations.history") == []


def test_configured_reaction_map(configured_harness: object) -> None:
    h: Harness = configured_harness(  # type: ignore[operator]
        IncidentConfig(timeline_reactions={"star": "pin", "memo": "action"})
    )
    room, ts = room_with_message(h, "Add an alert on replica lag")
    h.emu.react(h.url, user_id="U1", channel_id=room, ts=ts, reaction="pushpin")
    h.emu.react(h.url, user_id="U1", channel_id=room, ts=ts, reaction="star")
    h.emu.react(h.url, user_id="U1", channel_id=room, ts=ts, reaction="memo")
    h.settle()
    kinds = h.timeline_kinds(1)
    assert kinds.count("pinned") == 1 and kinds.count("action_item") == 1
    with h.bot.runtime.uow() as tx:
        (item,) = tx.action_items.list_for(1)
        assert item.text == "Add an alert on replica lag"


def test_message_shortcut_adds_to_timeline_only_in_war_rooms(harness: Harness) -> None:
    h = harness
    room, ts = room_with_message(h)
    h.emu.message_shortcut(
        h.url, callback_id=CallbackId.ADD_TO_TIMELINE, user_id="U2", channel_id=room, message_ts=ts
    )
    h.settle()
    assert "Added to the timeline" in h.replies()[-1]
    assert [e.actor for e in h.timeline(1) if e.kind == "pinned"] == ["U3"]
    h.emu.message_shortcut(
        h.url, callback_id=CallbackId.ADD_TO_TIMELINE, user_id="U2", channel_id=room, message_ts=ts
    )
    h.settle()
    assert "already on the timeline" in h.replies()[-1]
    outside = h.emu.post_as_user(h.general, "U2", "lunch?")
    h.emu.message_shortcut(
        h.url, callback_id=CallbackId.ADD_TO_TIMELINE, user_id="U2", channel_id=h.general, message_ts=outside
    )
    h.settle()
    assert "only from its war room" in h.replies()[-1]
    assert h.timeline_kinds(1).count("pinned") == 1


def test_note_and_action_commands(harness: Harness) -> None:
    h = harness
    h.command("declare sev3 Search is slow")
    room = h.room(1).id
    h.command("note Suspect the new ranking model", channel=room, user="U2")
    assert "Added to the INC-1 timeline" in h.replies()[-1]
    h.command("action Add a latency SLO alert <@U3|carol>", channel=room)
    note = [e for e in h.timeline(1) if e.kind == "note"][0]
    assert (note.actor, note.text) == ("U2", "Suspect the new ranking model")
    with h.bot.runtime.uow() as tx:
        (item,) = tx.action_items.list_for(1)
        assert (item.text, item.owner) == ("Add a latency SLO alert", "U3")
    assert "A note needs some text" in h.command("note", channel=room).json()["text"]
    h.command("note hello")
    assert "works inside an incident's war room" in h.replies()[-1]


def test_system_events_carry_actor_and_time(harness: Harness) -> None:
    h = harness
    h.command("declare sev2 Checkout is timing out", user="U1")
    room = h.room(1).id
    h.command("assign commander <@U2|bob>", channel=room, user="U1")
    h.command("update identified Found it", channel=room, user="U2")
    h.command("escalate sev1", channel=room, user="U3")
    h.command("resolve Fixed", channel=room, user="U2")
    events = {e.kind: e for e in h.timeline(1)}
    for kind, actor in [
        ("declared", "U1"),
        ("role_assigned", "U1"),
        ("status_changed", "U2"),
        ("update_posted", "U2"),
        ("severity_changed", "U3"),
        ("escalated", "U3"),
        ("resolved", "U2"),
    ]:
        assert events[kind].actor == actor, kind
        assert events[kind].occurred_at.tzinfo is not None


def test_pushpin_on_a_thread_reply_adds_the_reply(harness: Harness) -> None:
    h = harness
    room, parent = room_with_message(h)
    reply = h.emu.post_as_user(room, "U3", "rolled back build 4512", thread_ts=parent)
    assert h.emu.react(h.url, user_id="U1", channel_id=room, ts=reply).status == 200
    h.settle()
    (pin,) = [e for e in h.timeline(1) if e.kind == "pinned"]
    assert pin.text == "rolled back build 4512" and pin.message_ts == reply


def test_a_pin_taken_back_at_once_leaves_the_message_off_the_timeline(harness: Harness) -> None:
    h = harness
    room, ts = room_with_message(h)
    h.emu.set_latency(0.5, "conversations.history")  # the pin's message is still being read
    h.emu.react(h.url, user_id="U1", channel_id=room, ts=ts)
    h.emu.react(h.url, user_id="U1", channel_id=room, ts=ts, removed=True)
    h.settle()
    assert "pinned" not in h.timeline_kinds(1)
