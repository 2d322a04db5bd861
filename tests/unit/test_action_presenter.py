"""Action item messages: user text escaped, overdue marked, Slack's block limits kept, private items bare."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.slack.ids import ActionId
from tests.unit.test_presenter import FixedClock, incident, presenter

NOW = FixedClock().now()


def line(n: int, **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"id": 100 + n, "number": n, "text": f"Item {n}", "owner": None, "due": None}
    base.update({"priority": None, "done_at": None, "done_by": None})
    return {**base, **kw}


def test_the_list_escapes_text_marks_overdue_and_keeps_within_fifty_blocks() -> None:
    yesterday = (NOW - timedelta(days=1)).isoformat()
    items = [line(1, text="<!channel> & *ship* it", owner="U4", due=yesterday, priority="p1")]
    items += [line(n) for n in range(2, 60)]
    items.append(line(60, done_at=NOW.isoformat(), done_by="U2"))
    message = presenter().action_list(incident(), {"items": items, "key": "action_list:7"})
    assert message.blocks is not None and len(message.blocks) <= 50
    first = message.blocks[1]
    assert first["accessory"]["action_id"] == ActionId.ACTION_DONE and first["accessory"]["value"] == "101"
    text = first["text"]["text"]
    assert "&lt;!channel&gt; &amp; *ship* it" in text and "<@U4>" in text
    assert "*overdue*" in text and "*P1*" in text
    assert "done by <@U2>" in message.blocks[-1]["text"]["text"], "items past the buttons are still listed"
    assert message.event_payload["key"] == "action_list:7" and message.event_payload["open"] == 59


def test_a_reminder_names_a_private_incident_only_by_number_unless_its_owner_is_in_the_room() -> None:
    due = (NOW - timedelta(days=2)).isoformat()
    items = [
        {**line(1, due=due), "incident": "INC-4", "private": False, "title": "Checkout <down>"},
        {**line(2, due=due, text=None), "incident": "INC-5", "private": True, "title": None},
    ]
    message = presenter().action_reminder({"owner": "U4", "items": items, "incident_id": 4, "key": "k"})
    assert "INC-4 (Checkout &lt;down&gt;) · item 1: Item 1" in message.text
    assert "An action item of INC-5 (private) is overdue" in message.text
    assert message.blocks is not None
    buttons = [e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
    assert buttons == [ActionId.ACTION_DONE, ActionId.ACTION_SNOOZE] * 2


def test_a_new_item_names_who_recorded_it_and_never_says_nobody() -> None:
    made = presenter().action_item(incident(), {"item": line(1, owner="U4", created_by="U2")})
    assert made.text.startswith(":clipboard: *Action item 1* for *INC-7*, recorded by <@U2>: Item 1")
    # A job recorded before its item carried its creator: the room is told the item, not "nobody".
    older = presenter().action_item(incident(), {"item": line(1)})
    assert older.text.startswith(":clipboard: *Action item 1* for *INC-7*: Item 1")
    assert "nobody" not in older.text
