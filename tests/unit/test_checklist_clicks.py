"""A checkboxes click is read as the clicker's own change, against the message as it was when clicked."""

from __future__ import annotations

from typing import Any

from bot.listeners.room_forms import checklist_change
from bot.slack.ids import ActionId
from commands.parsing import TickChecklist


def option(value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": f"Item {value}"}, "value": value}


def body(selected: list[str], shown: list[str] | None, block: str = "checklist_0") -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "checkboxes",
        "action_id": ActionId.CHECKLIST,
        "options": [option(v) for v in ("0", "1", "2")],
    }
    if shown:
        element["initial_options"] = [option(v) for v in shown]
    action = {
        "type": "checkboxes",
        "action_id": ActionId.CHECKLIST,
        "block_id": block,
        "selected_options": [option(v) for v in selected],
    }
    message = {"blocks": [{"type": "actions", "block_id": "checklist_0", "elements": [element]}]}
    return {"actions": [action], "message": message if shown is not None else None}


def test_a_tick_and_an_untick_are_the_difference_with_what_the_message_showed() -> None:
    assert checklist_change(body(["0", "2"], ["0"])) == TickChecklist(checked=(2,), unchecked=())
    assert checklist_change(body([], ["0", "1"])) == TickChecklist(checked=(), unchecked=(0, 1))


def test_a_stale_message_does_not_undo_what_others_ticked_since() -> None:
    # Bob's message showed nothing ticked; Alice has since ticked 1. Bob ticks 0: only 0 changes.
    assert checklist_change(body(["0"], [])) == TickChecklist(checked=(0,), unchecked=())


def test_without_the_message_only_the_selection_is_taken_and_junk_is_ignored() -> None:
    assert checklist_change(body(["1"], None)) == TickChecklist(checked=(1,))
    junk = body(["0"], ["0"])
    junk["actions"][0]["selected_options"] = [{"value": "x"}, "y", {"value": "2"}]
    assert checklist_change(junk) == TickChecklist(checked=(2,), unchecked=(0,))
