"""Notes, pins and action items on the in-memory store: each recorded once per delivery."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from commands.action import add_action_item
from commands.errors import NotInWarRoom
from commands.note import add_note
from commands.parsing import AddActionItem, Note
from commands.timeline import PinnedMessage, pin_message, unpin_message
from tests.unit.commands.conftest import CONFIG, ROOM, Clock, war_room
from tests.unit.fakes import FakeDatabase, same_state


def test_a_note_is_recorded_in_its_room_only(db: FakeDatabase, clock: Clock) -> None:
    number = war_room(db, clock)
    now = clock.advance(minutes=4)
    assert (
        add_note(
            Note(text="Saw a spike"), user_id="U2", channel_id=ROOM, uow=db, clock=clock, settings=CONFIG
        )
        == f"INC-{number}"
    )
    [note] = db.events(number, "note")
    assert (note.actor, note.text, note.occurred_at) == ("U2", "Saw a spike", now)
    before = db.snapshot()
    with pytest.raises(NotInWarRoom):
        add_note(Note(text="Lost"), user_id="U2", channel_id="CX", uow=db, clock=clock, settings=CONFIG)
    assert same_state(before, db.snapshot())


def test_an_action_item_is_recorded_with_its_timeline_line_once_per_delivery(
    db: FakeDatabase, clock: Clock
) -> None:
    number = war_room(db, clock)
    now = clock.now()
    for _ in range(2):
        add_action_item(
            AddActionItem(text="Alert on pool size", owner="U4"),
            user_id="U2",
            channel_id=ROOM,
            uow=db,
            clock=clock,
            settings=CONFIG,
            delivery="form:1",
        )
    [item] = db.committed.action_items
    assert (item.incident_id, item.text, item.owner, item.created_by, item.created_at) == (
        number,
        "Alert on pool size",
        "U4",
        "U2",
        now,
    )
    [event] = db.events(number, "action_item")
    assert (event.text, event.data) == (
        "Alert on pool size (owner <@U4>)",
        {
            "owner": "U4",
            "item": "Alert on pool size",
            "item_id": item.id,
            "number": 1,
            "due": None,
            "priority": None,
        },
    )


def test_a_pin_is_recorded_at_the_message_time_once_and_unpinning_removes_it(
    db: FakeDatabase, clock: Clock
) -> None:
    number = war_room(db, clock)
    message = PinnedMessage(
        channel_id=ROOM, ts="1772370000.000100", author="U3", text="DB at 100%", permalink="https://x"
    )
    assert pin_message(message, pinned_by="U2", uow=db, clock=clock, settings=CONFIG)
    assert not pin_message(message, pinned_by="U5", uow=db, clock=clock, settings=CONFIG)
    [pin] = db.events(number, "pinned")
    assert pin.occurred_at == datetime.fromtimestamp(1772370000.0001, tz=UTC)
    assert (pin.actor, pin.message_ts, pin.permalink, pin.data["pinned_by"]) == (
        "U3",
        message.ts,
        "https://x",
        "U2",
    )
    assert not unpin_message(channel_id="CX", ts=message.ts, uow=db, clock=clock, settings=CONFIG)
    assert unpin_message(
        channel_id=ROOM, ts=message.ts, uow=db, clock=clock, settings=CONFIG, delivery="ev:1"
    )
    assert db.events(number, "pinned") == []
    assert not unpin_message(
        channel_id=ROOM, ts=message.ts, uow=db, clock=clock, settings=CONFIG, delivery="ev:1"
    )


def test_a_retried_pin_delivery_records_nothing(db: FakeDatabase, clock: Clock) -> None:
    war_room(db, clock)
    message = PinnedMessage(channel_id=ROOM, ts="1772370000.000100", author="U3", text="x", permalink=None)
    assert pin_message(message, pinned_by="U2", uow=db, clock=clock, settings=CONFIG, delivery="ev:1")
    unpin_message(channel_id=ROOM, ts=message.ts, uow=db, clock=clock, settings=CONFIG)
    before = db.snapshot()
    assert not pin_message(message, pinned_by="U2", uow=db, clock=clock, settings=CONFIG, delivery="ev:1")
    assert same_state(before, db.snapshot())
