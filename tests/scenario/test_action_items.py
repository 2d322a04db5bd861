"""Action items that get done, over HTTP against the strict emulator: owner, due and priority from the
command and the form, the room's list with Done buttons, and the weekly DM of overdue items."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bot.ops.config import IncidentConfig
from bot.slack.ids import ActionId, BlockId
from bot.slack.manifest import CallbackId
from tests.scenario.conftest import FakeClock, Harness
from tests.scenario.test_duplicates_checklists import posts
from tests.scenario.test_postmortem import shared_files


def declared(h: Harness) -> str:
    h.command("declare sev2 Checkout is timing out")
    room = str(h.room(1).id)
    h.emu.channels[room].members.update({"U2", "U3", "U4"})
    return room


def done_buttons(message: Any) -> dict[str, str]:
    """item id -> block id of every Done button on a message."""
    found = {}
    for block in message.blocks or []:
        for element in [block.get("accessory"), *(block.get("elements") or [])]:
            if isinstance(element, dict) and element.get("action_id") == ActionId.ACTION_DONE:
                found[element["value"]] = block["block_id"]
    return found


def test_an_item_with_owner_due_and_priority_is_listed_and_done_once(harness: Harness) -> None:
    h = harness
    room = declared(h)
    h.command("action Add a canary for checkout <@U4|dave> due tomorrow p1", channel=room)
    reply = h.replies()[-1]
    assert "Action item 1 recorded for INC-1" in reply and "owner <@U4>" in reply and "P1" in reply
    [post] = posts(h, room, "incident_action_item")
    assert "Add a canary for checkout" in post.text and "<@U4>" in post.text and "*P1*" in post.text
    assert "recorded by <@U1>" in post.text  # who typed it, not "nobody"
    h.command("action Ask <@U2|bob> why p1 pages were due today at noon", channel=room)
    h.command("action Old thing due 2020-01-01", channel=room)
    assert "already over" in h.replies()[-1]
    h.command("action Nobody's <@U999|ghost>", channel=room)
    assert "not an active member" in h.replies()[-1]
    with h.bot.runtime.uow() as tx:
        items = list(tx.action_items.list_for(1))
        assert [(i.text, i.owner, i.priority) for i in items] == [
            ("Add a canary for checkout", "U4", "p1"),
            ("Ask @bob why p1 pages were due today at noon", None, None),
        ]
        ids = [str(i.id) for i in items]

    h.command("actions", channel=room)
    assert "2 open and 0 done" in h.replies()[-1]
    [listed] = posts(h, room, "incident_action_items")
    buttons = done_buttons(listed)
    first = ids[0]
    assert set(buttons) == set(ids)

    def click(user: str) -> None:
        result = h.emu.click_button(
            h.url,
            user_id=user,
            channel_id=room,
            message_ts=listed.ts,
            action_id=ActionId.ACTION_DONE,
            value=first,
            block_id=buttons[first],
        )
        assert result.status == 200

    click("U3")
    click("U2")  # a second person on the same (stale) message
    h.settle()
    answers = h.replies()[-2:]
    assert any("Marked action item 1 of INC-1 done" in a for a in answers)
    assert any("already marked done by <@U3>" in a for a in answers)
    assert h.timeline_kinds(1).count("action_item_done") == 1
    shown = h.emu.channels[room].find(listed.ts)
    assert set(done_buttons(shown)) == {ids[1]}, "the done item lost its button"
    assert "done by <@U3>" in shown.text

    h.command("action done 2", channel=room, user="U4")
    assert "Marked action item 2 of INC-1 done" in h.replies()[-1]
    h.command("assign commander <@U1|alice>", channel=room)
    h.command("resolve Fixed", channel=room)
    [draft] = shared_files(h, room)
    body = draft.content.decode()
    assert "- Add a canary for checkout · P1 · owner @dave · due " in body
    assert "· done by @carol on " in body


def test_the_form_and_the_message_shortcut_take_owner_due_and_priority(harness: Harness) -> None:
    h = harness
    room = declared(h)
    h.command("action", channel=room)
    (opened,) = h.emu.calls_to("views.open")
    kinds = {b["block_id"]: b["element"]["type"] for b in opened.args["view"]["blocks"]}
    assert kinds == {
        BlockId.ACTION_TEXT: "plain_text_input",
        BlockId.ACTION_OWNER: "users_select",
        BlockId.ACTION_DUE: "datepicker",
        BlockId.ACTION_PRIORITY: "static_select",
        BlockId.ACTION_KIND: "static_select",
    }
    view_id = list(h.emu.views)[-1]

    def values(text: str, due: str | None) -> dict[str, Any]:
        return {
            BlockId.ACTION_TEXT: {ActionId.ACTION_TEXT: {"type": "plain_text_input", "value": text}},
            BlockId.ACTION_OWNER: {ActionId.ACTION_OWNER: {"type": "users_select", "selected_user": "U4"}},
            BlockId.ACTION_DUE: {ActionId.ACTION_DUE: {"type": "datepicker", "selected_date": due}},
            BlockId.ACTION_PRIORITY: {
                ActionId.ACTION_PRIORITY: {
                    "type": "static_select",
                    "selected_option": {"value": "p2", "text": {"type": "plain_text", "text": "P2"}},
                }
            },
        }

    refused = h.emu.submit_view(h.url, view_id, values("Alert on pool size", "2020-01-01"), user_id="U1")
    assert "already over" in refused.json()["errors"][BlockId.ACTION_DUE]
    empty = h.emu.submit_view(h.url, view_id, values("  ", None), user_id="U1")
    assert empty.json()["errors"] == {BlockId.ACTION_TEXT: "Say what needs doing."}
    tomorrow = (h.bot.runtime.clock.now() + timedelta(days=1)).date().isoformat()
    assert (
        h.emu.submit_view(h.url, view_id, values("Alert on pool size", tomorrow), user_id="U1").status == 200
    )
    h.settle()
    with h.bot.runtime.uow() as tx:
        [item] = tx.action_items.list_for(1)
        assert (item.text, item.owner, item.priority) == ("Alert on pool size", "U4", "p2")
        assert item.due_at is not None and item.due_at.date().isoformat() == tomorrow
    assert "Action item 1 recorded for INC-1" in h.emu.channels[room].ephemerals[-1].text

    # The message shortcut opens the same form with the message's words in it.
    ts = h.emu.post_as_user(room, "U2", "Pool exhausted again <@U3>, we need an alert")
    h.emu.message_shortcut(
        h.url, callback_id=CallbackId.MAKE_ACTION_ITEM, user_id="U2", channel_id=room, message_ts=ts
    )
    h.settle()
    shortcut_view = h.emu.calls_to("views.open")[-1].args["view"]
    text_block = next(b for b in shortcut_view["blocks"] if b["block_id"] == BlockId.ACTION_TEXT)
    assert text_block["element"]["initial_value"].startswith("Pool exhausted again @")


def test_owners_get_one_dm_a_week_with_done_and_snooze(configured_harness: Callable[..., Harness]) -> None:
    clock = FakeClock()
    h = configured_harness(IncidentConfig(action_reminders_at="mon 09:00"), clock)
    room = declared(h)
    h.command("action Add a canary <@U4|dave> due tomorrow p1", channel=room)
    h.command("action Rotate the keys <@U4|dave> due today", channel=room)
    h.command("declare --private sev2 Secret leak")
    secret = str(h.room(2).id)
    h.command("action Revoke the token <@U4|dave> due today", channel=secret)

    def tick(**delta: float) -> list[Any]:
        clock.advance(**delta)
        h.bot.runtime.tick()
        h.settle()
        return [
            c
            for c in h.dms_to("U4")
            if (c.args.get("metadata") or {}).get("event_type") == "incident_action_items_overdue"
        ]

    assert tick(hours=1) == []
    dms = tick(days=9)  # past the next Monday 09:00, whatever today is
    assert len(dms) == 1
    text = dms[0].args["text"]
    assert "Add a canary" in text and "Rotate the keys" in text
    assert "Revoke the token" not in text and "INC-2 (private)" in text, "dave is not in the private room"
    assert "Secret leak" not in text
    assert tick(minutes=5) == dms, "one DM a slot, however often the tick runs"

    with h.bot.runtime.uow() as tx:
        canary, rotate = tx.action_items.list_for(1)
        canary_id, rotate_id = str(canary.id), str(rotate.id)
    dm = next(c for c in h.emu.channels.values() if c.is_im and "U4" in c.members)
    reminder = dm.messages[-1]

    def press(action_id: str, item: str, user: str = "U4") -> None:
        result = h.emu.click_button(
            h.url,
            user_id=user,
            channel_id=dm.id,
            message_ts=reminder.ts,
            action_id=action_id,
            value=item,
            block_id=f"{BlockId.ACTION_ITEM}_{item}",
        )
        assert result.status == 200
        h.settle()

    press(ActionId.ACTION_DONE, canary_id)
    assert "Marked action item 1 of INC-1 done" in h.replies()[-1]
    press(ActionId.ACTION_SNOOZE, rotate_id)
    assert "Snoozed action item 2 of INC-1" in h.replies()[-1]
    press(ActionId.ACTION_DONE, canary_id)
    assert "already marked done by <@U4>" in h.replies()[-1]
    with h.bot.runtime.uow() as tx:
        done = tx.action_items.get(int(canary_id))
        assert done is not None and done.done_by == "U4"
    # Next week only the private incident's item is still due; the snoozed one a week later again.
    nxt = tick(days=7)
    assert len(nxt) == 2 and "Rotate the keys" not in nxt[-1].args["text"]
    assert "Rotate the keys" in tick(days=7)[-1].args["text"]
