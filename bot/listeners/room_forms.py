"""Buttons and forms of a war room: assign a role, post an update, edit the incident, join from a page,
mark a duplicate, tick the checklist."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, Respond

from bot.listeners.inputs import clean
from bot.pipeline.acknowledge import FormInvalid, Intake, Surface, acknowledge
from bot.pipeline.dedup import interaction_key
from bot.pipeline.replies import Reply, ephemeral_reply
from bot.pipeline.runtime import Runtime
from bot.slack.ids import ActionId, BlockId
from bot.slack.modals import field_value, room_of, state_values
from commands.errors import ChatError
from commands.feature import Ask
from commands.parsing import (
    MAX_DESCRIPTION,
    MAX_MESSAGE,
    MAX_TITLE,
    AcknowledgePage,
    Assign,
    Duplicate,
    Edit,
    JoinRoom,
    OpenAssignForm,
    OpenUpdateForm,
    PostUpdate,
    TickChecklist,
)
from commands.vocabulary import IncidentStatus

log = logging.getLogger(__name__)


def button_context(body: dict[str, Any]) -> tuple[str, str, str]:
    """Trigger, channel and user of a click; missing parts become "" and fail later with a clear reply."""
    return (
        str(body.get("trigger_id") or ""),
        str((body.get("channel") or {}).get("id") or ""),
        str((body.get("user") or {}).get("id") or ""),
    )


def button_value(body: dict[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    return str((actions[0] if isinstance(actions[0], dict) else {}).get("value") or "")


def click(body: dict[str, Any], respond: Respond, parse: Any) -> Intake:
    """A button click (or shortcut) as the pipeline takes it: answered only to the person, by response_url."""
    trigger, channel, user = button_context(body)
    return Intake(
        surface=Surface.BUTTON,
        ask=Ask(user_id=user, channel_id=channel, delivery_key=interaction_key(body)),
        reply=ephemeral_reply(respond),
        parse=parse,
        trigger_id=trigger,
    )


def handle_open_assign_button(
    ack: Ack, body: dict[str, Any], respond: Respond, context: dict[str, Any]
) -> None:
    acknowledge(context["runtime"], ack, click(body, respond, OpenAssignForm))


def handle_open_update_button(
    ack: Ack, body: dict[str, Any], respond: Respond, context: dict[str, Any]
) -> None:
    acknowledge(context["runtime"], ack, click(body, respond, OpenUpdateForm))


def handle_join_room_button(
    ack: Ack, body: dict[str, Any], respond: Respond, context: dict[str, Any]
) -> None:
    """From a page DM: invite a person paged for this open incident into its room (again, if they left)."""
    value = button_value(body)
    # The value is whatever the client sent: only a number an incident id can be names one.
    number = int(value) if value.isdigit() and len(value) <= 9 else None
    parse = lambda: JoinRoom(number)  # noqa: E731
    acknowledge(context["runtime"], ack, click(body, respond, parse))


def handle_acknowledge_page_button(
    ack: Ack, body: dict[str, Any], respond: Respond, context: dict[str, Any]
) -> None:
    """From a page DM: acknowledge that page (only someone it was sent to; rechecked when recorded)."""
    value = button_value(body)
    number = int(value) if value.isdigit() and len(value) <= 12 else None
    parse = lambda: AcknowledgePage(number)  # noqa: E731
    acknowledge(context["runtime"], ack, click(body, respond, parse))


def handle_mark_duplicate_button(
    ack: Ack, body: dict[str, Any], respond: Respond, context: dict[str, Any]
) -> None:
    """The summary's *Mark as duplicate*: its value names the possible duplicate, rechecked when recorded."""
    value = button_value(body)
    parse = lambda: Duplicate(int(value) if value.isdigit() else None)  # noqa: E731
    acknowledge(context["runtime"], ack, click(body, respond, parse))


def _positions(options: Any) -> set[int]:
    """The item positions of checkbox options (their values); anything else is ignored."""
    found: set[int] = set()
    for option in options if isinstance(options, list) else []:
        value = str((option or {}).get("value") or "") if isinstance(option, dict) else ""
        if value.isdigit():
            found.add(int(value))
    return found


def checklist_change(body: dict[str, Any]) -> TickChecklist:
    """What this click changed: the options selected now against those the message showed ticked.

    Slack sends the element's whole selection, not the one box clicked. Compared with the message as it
    was (its `initial_options`), the click's own change is known, so two people ticking different items
    of one stale message do not undo each other.
    """
    actions = body.get("actions") or [{}]
    action = actions[0] if isinstance(actions[0], dict) else {}
    selected = _positions(action.get("selected_options"))
    shown: set[int] | None = None
    offered: set[int] = set()
    for block in (body.get("message") or {}).get("blocks") or []:
        if isinstance(block, dict) and block.get("block_id") == action.get("block_id"):
            for element in block.get("elements") or []:
                if isinstance(element, dict) and element.get("action_id") == action.get("action_id"):
                    shown = _positions(element.get("initial_options"))
                    offered = _positions(element.get("options"))
    if shown is None:  # no message to compare with: only what is selected is known to be meant
        return TickChecklist(checked=tuple(sorted(selected)))
    return TickChecklist(
        checked=tuple(sorted(selected - shown)), unchecked=tuple(sorted((shown - selected) & offered))
    )


def handle_checklist_action(
    ack: Ack, body: dict[str, Any], respond: Respond, context: dict[str, Any]
) -> None:
    """A checklist checkbox ticked or unticked in the room."""
    acknowledge(context["runtime"], ack, click(body, respond, lambda: checklist_change(body)))


def handle_assign_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
) -> None:
    rt: Runtime = context["runtime"]

    def parse() -> Assign:
        role = (field_value(view, BlockId.ROLE, ActionId.ROLE).get("selected_option") or {}).get("value", "")
        person = field_value(view, BlockId.ASSIGNEE, ActionId.ASSIGNEE).get("selected_user") or ""
        errors: dict[str, str] = {}
        if role not in rt.config.roles:
            errors[BlockId.ROLE] = "Choose one of the listed roles."
        if not person:
            errors[BlockId.ASSIGNEE] = "Choose a person."
        if errors or room_of(view) is None:
            raise FormInvalid(errors or {BlockId.ROLE: "This form lost its war room; reopen it."})
        return Assign(role=role, user_id=person)

    _submit_room_form(rt, ack, body, view, BlockId.ASSIGNEE, parse)


def handle_update_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
) -> None:
    rt: Runtime = context["runtime"]

    def parse() -> PostUpdate:
        status = (field_value(view, BlockId.STATUS, ActionId.STATUS).get("selected_option") or {}).get(
            "value"
        )
        # Modal text arrives raw (not Slack-escaped) and may span lines: keep it as typed.
        message = clean(str(field_value(view, BlockId.MESSAGE, ActionId.MESSAGE).get("value") or "")).strip()
        if not message:
            raise FormInvalid({BlockId.MESSAGE: "An update needs a message for stakeholders."})
        if len(message) > MAX_MESSAGE:
            raise FormInvalid({BlockId.MESSAGE: f"Keep it under {MAX_MESSAGE} characters."})
        if status not in rt.config.statuses or status == IncidentStatus.RESOLVED or room_of(view) is None:
            raise FormInvalid({BlockId.STATUS: "Choose one of the listed statuses."})
        return PostUpdate(message=message, status=status)

    _submit_room_form(rt, ack, body, view, BlockId.MESSAGE, parse)


def handle_edit_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
) -> None:
    """The edit form: every field it shows is the incident's new value (type and services when shown)."""
    rt: Runtime = context["runtime"]

    def parse() -> Edit:
        values = state_values(view)
        title = " ".join(
            clean(str(field_value(view, BlockId.TITLE, ActionId.TITLE).get("value") or "")).split()
        )
        description = clean(
            str(field_value(view, BlockId.DESCRIPTION, ActionId.DESCRIPTION).get("value") or "")
        ).strip()
        errors: dict[str, str] = {}
        if not title:
            errors[BlockId.TITLE] = "An incident needs a title."
        elif len(title) > MAX_TITLE:
            errors[BlockId.TITLE] = f"Keep the title under {MAX_TITLE} characters."
        if len(description) > MAX_DESCRIPTION:
            errors[BlockId.DESCRIPTION] = f"Keep the description under {MAX_DESCRIPTION} characters."
        incident_type: str | None = None
        if BlockId.INCIDENT_TYPE in values:
            chosen = (
                field_value(view, BlockId.INCIDENT_TYPE, ActionId.INCIDENT_TYPE).get("selected_option") or {}
            )
            incident_type = str(chosen.get("value") or "") or None
        services: tuple[str, ...] | None = None
        if BlockId.SERVICES in values:
            picked = field_value(view, BlockId.SERVICES, ActionId.SERVICES).get("selected_options") or []
            services = tuple(str(o.get("value") or "") for o in picked if isinstance(o, dict))
        if errors or room_of(view) is None:
            raise FormInvalid(errors or {BlockId.TITLE: "This form lost its war room; reopen it."})
        return Edit(title=title, description=description, incident_type=incident_type, services=services)

    _submit_room_form(rt, ack, body, view, BlockId.TITLE, parse)


def _submit_room_form(
    rt: Runtime, ack: Ack, body: dict[str, Any], view: dict[str, Any], error_block: str, parse: Any
) -> None:
    """A closed form tells the person their change is in; a refusal keeps it open, with the reason on it."""
    _, _, user = button_context(body)
    if not user:
        ack()
        log.warning("form submitted without a user; ignored")
        return
    channel = room_of(view) or ""
    intake = Intake(
        surface=Surface.FORM,
        ask=Ask(user_id=user, channel_id=channel, delivery_key=interaction_key(body)),
        reply=_room_reply(rt, channel, user),
        parse=parse,
        error_block=error_block,
    )
    acknowledge(rt, ack, intake)


def _room_reply(rt: Runtime, channel: str, user: str) -> Reply:
    """Answer a form in its room, only to the submitter; by DM when they have left the room."""

    def reply(text: str) -> None:
        try:
            rt.chat.notify(channel, user, text)
        except ChatError:
            rt.chat.tell(user, text)

    return reply


# The action item form submits through the same path (bot/listeners/action_items.py).
submit_room_form = _submit_room_form
