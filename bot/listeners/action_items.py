"""Action items from Slack surfaces: the form, the *Make action item* shortcut, *Done* and *Snooze*."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_bolt import Ack, Respond

from bot.listeners.inputs import clean
from bot.listeners.room_forms import button_value, click, submit_room_form
from bot.pipeline.acknowledge import FormInvalid, acknowledge
from bot.pipeline.runtime import Runtime
from bot.slack.ids import ActionId, BlockId
from bot.slack.modals import field_value, room_of
from commands.due import DueSpec, resolve_due
from commands.errors import ChatError, UsageError
from commands.parsing import (
    ACTION_KINDS,
    MAX_NOTE,
    PRIORITIES,
    AddActionItem,
    MarkActionDone,
    OpenActionForm,
    SnoozeActionItem,
)
from commands.text import plain_text


def item_id_of(body: dict[str, Any]) -> int | None:
    """The item a button names: only a number an item id can be (rechecked when recorded)."""
    value = button_value(body)
    return int(value) if value.isdigit() and len(value) <= 12 else None


def handle_make_action_item_shortcut(
    ack: Ack, shortcut: dict[str, Any], respond: Respond, context: dict[str, Any]
) -> None:
    """The message shortcut: the action item form, its text taken from the message."""
    raw = shortcut.get("message") or {}
    text = plain_text(clean(str(raw.get("text") or "")))
    acknowledge(context["runtime"], ack, click(shortcut, respond, lambda: OpenActionForm(text=text)))


def handle_action_done_button(
    ack: Ack, body: dict[str, Any], respond: Respond, context: dict[str, Any]
) -> None:
    """*Done* on the room's list (the list is shown afresh) or in a reminder DM."""
    container = body.get("container") or {}
    ts = str(container.get("message_ts") or "") or None
    cmd = MarkActionDone(item_id=item_id_of(body), message_ts=ts)
    acknowledge(context["runtime"], ack, click(body, respond, lambda: cmd))


def handle_action_snooze_button(
    ack: Ack, body: dict[str, Any], respond: Respond, context: dict[str, Any]
) -> None:
    cmd = SnoozeActionItem(item_id=item_id_of(body))
    acknowledge(context["runtime"], ack, click(body, respond, lambda: cmd))


def handle_action_item_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
) -> None:
    """The action item form: each refusal is shown on the field it is about, and the form stays open."""
    rt: Runtime = context["runtime"]

    def parse() -> AddActionItem:
        raw = str(field_value(view, BlockId.ACTION_TEXT, ActionId.ACTION_TEXT).get("value") or "")
        text = " ".join(clean(raw).split())
        owner = str(field_value(view, BlockId.ACTION_OWNER, ActionId.ACTION_OWNER).get("selected_user") or "")
        picked = str(field_value(view, BlockId.ACTION_DUE, ActionId.ACTION_DUE).get("selected_date") or "")
        chosen = field_value(view, BlockId.ACTION_PRIORITY, ActionId.ACTION_PRIORITY).get("selected_option")
        priority = str((chosen or {}).get("value") or "") or None
        typed = field_value(view, BlockId.ACTION_KIND, ActionId.ACTION_KIND).get("selected_option")
        kind = str((typed or {}).get("value") or "") or None
        errors: dict[str, str] = {}
        if not text:
            errors[BlockId.ACTION_TEXT] = "Say what needs doing."
        elif len(text) > MAX_NOTE:
            errors[BlockId.ACTION_TEXT] = f"Keep it under {MAX_NOTE} characters."
        due: DueSpec | None = None
        if picked:
            try:
                due = DueSpec(date=date.fromisoformat(picked))
                resolve_due(due, rt.clock.now(), rt.config.zone)
            except ValueError:
                errors[BlockId.ACTION_DUE] = "Pick a date from the calendar."
            except UsageError as exc:
                errors[BlockId.ACTION_DUE] = exc.message
        if priority is not None and priority not in PRIORITIES:
            errors[BlockId.ACTION_PRIORITY] = "Choose P1, P2 or P3."
        if kind is not None and kind not in ACTION_KINDS:
            errors[BlockId.ACTION_KIND] = "Choose Mitigate, Prevent or Process."
        if owner and not errors and not _active(rt, owner):
            errors[BlockId.ACTION_OWNER] = "Choose an active member of this workspace."
        if errors or room_of(view) is None:
            raise FormInvalid(errors or {BlockId.ACTION_TEXT: "This form lost its war room; reopen it."})
        return AddActionItem(text=text, owner=owner or None, due=due, priority=priority, kind=kind)

    submit_room_form(rt, ack, body, view, BlockId.ACTION_TEXT, parse)


def _active(rt: Runtime, user: str) -> bool:
    """Whether Slack knows the person as active; when Slack cannot say, the record's own check decides."""
    try:
        return rt.chat.user_exists(user)
    except ChatError:
        return True
