"""Buttons and modals of a war room: assign a role, post an update, join from a page."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import Ack, Respond

from bot.listeners.inputs import clean
from bot.pipeline.actions import Caller, Recorded, record_assignment, record_update
from bot.pipeline.dedup import first_delivery, interaction_key
from bot.pipeline.recording import carry_on_after_ack, commit_within_budget
from bot.pipeline.replies import ephemeral_reply, failure_message, reporting
from bot.pipeline.runtime import Runtime
from bot.render.mrkdwn import channel_link
from bot.slack.ids import ActionId, BlockId
from bot.slack.modals import assign_modal, field_value, room_of, update_modal
from commands.errors import ChatError, RepeatedDelivery
from commands.escalation import room_to_join
from commands.parsing import MAX_MESSAGE, Assign, PostUpdate
from commands.updates import last_update
from commands.vocabulary import IncidentStatus

log = logging.getLogger(__name__)


def open_update_form(
    rt: Runtime, trigger_id: str, channel_id: str, user_id: str, reply: Any, delivery: str | None = None
) -> None:
    """Open the update modal pre-filled with the last update; outside a room, say so."""
    with reporting(reply, "open update form"):
        if not first_delivery(rt.uow, rt.clock, delivery):
            return
        message, status = last_update(channel_id=channel_id, uow=rt.uow)
        rt.chat.open_view(trigger_id, update_modal(rt.config, channel_id, message, status).to_dict())


def open_assign_form(
    rt: Runtime, trigger_id: str, channel_id: str, reply: Any, delivery: str | None = None
) -> None:
    with reporting(reply, "open assign form"):
        if not first_delivery(rt.uow, rt.clock, delivery):
            return
        rt.chat.open_view(trigger_id, assign_modal(rt.config, channel_id).to_dict())


def button_context(body: dict[str, Any]) -> tuple[str, str, str]:
    """Trigger, channel and user of a click; missing parts become "" and fail later with a clear reply."""
    return (
        str(body.get("trigger_id") or ""),
        str((body.get("channel") or {}).get("id") or ""),
        str((body.get("user") or {}).get("id") or ""),
    )


def handle_open_assign_button(
    ack: Ack, body: dict[str, Any], respond: Respond, context: dict[str, Any]
) -> None:
    rt: Runtime = context["runtime"]
    ack()
    trigger, channel, _ = button_context(body)
    rt.open_form(open_assign_form, rt, trigger, channel, ephemeral_reply(respond), interaction_key(body))


def handle_open_update_button(
    ack: Ack, body: dict[str, Any], respond: Respond, context: dict[str, Any]
) -> None:
    rt: Runtime = context["runtime"]
    ack()
    trigger, channel, user = button_context(body)
    rt.open_form(
        open_update_form, rt, trigger, channel, user, ephemeral_reply(respond), interaction_key(body)
    )


def handle_join_room_button(
    ack: Ack, body: dict[str, Any], respond: Respond, context: dict[str, Any]
) -> None:
    """From a page DM: invite a person paged for this open incident into its room (again, if they left)."""
    rt: Runtime = context["runtime"]
    ack()
    _, _, user = button_context(body)
    actions = body.get("actions") or [{}]
    value = str((actions[0] if isinstance(actions[0], dict) else {}).get("value") or "")
    key = interaction_key(body)

    def work() -> None:
        reply = ephemeral_reply(respond)
        with reporting(reply, "join war room"):
            if not value.isdigit() or not user:
                reply("That button does not point at an incident I know; nothing was changed.")
                return
            if not first_delivery(rt.uow, rt.clock, key):
                return
            # The value is only a claim: who was paged, and whether it is still open, come from the database.
            room = room_to_join(incident_id=int(value), user_id=user, uow=rt.uow)
            rt.chat.invite(room, [user])
            reply(f"You are in {channel_link(room)}.")

    rt.submit(work)


def handle_assign_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
) -> None:
    rt: Runtime = context["runtime"]
    role = (field_value(view, BlockId.ROLE, ActionId.ROLE).get("selected_option") or {}).get("value", "")
    person = field_value(view, BlockId.ASSIGNEE, ActionId.ASSIGNEE).get("selected_user") or ""
    channel = room_of(view)
    errors: dict[str, str] = {}
    if role not in rt.config.roles:
        errors[BlockId.ROLE] = "Choose one of the listed roles."
    if not person:
        errors[BlockId.ASSIGNEE] = "Choose a person."
    if errors or channel is None:
        ack(
            response_action="errors",
            errors=errors or {BlockId.ROLE: "This form lost its war room; reopen it."},
        )
        return
    # Slack's user picker only offers people who exist: no look-up stands between the form and the commit.
    cmd = Assign(role=role, user_id=person)
    _commit_form(rt, ack, body, channel, BlockId.ASSIGNEE, "assign form", partial(record_assignment, rt, cmd))


def handle_update_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
) -> None:
    rt: Runtime = context["runtime"]
    status = (field_value(view, BlockId.STATUS, ActionId.STATUS).get("selected_option") or {}).get("value")
    # Modal text arrives raw (not Slack-escaped) and may span lines: keep it as typed.
    message = clean(str(field_value(view, BlockId.MESSAGE, ActionId.MESSAGE).get("value") or "")).strip()
    channel = room_of(view)
    if not message:
        ack(response_action="errors", errors={BlockId.MESSAGE: "An update needs a message for stakeholders."})
        return
    if len(message) > MAX_MESSAGE:
        ack(response_action="errors", errors={BlockId.MESSAGE: f"Keep it under {MAX_MESSAGE} characters."})
        return
    if status not in rt.config.statuses or status == IncidentStatus.RESOLVED or channel is None:
        ack(response_action="errors", errors={BlockId.STATUS: "Choose one of the listed statuses."})
        return
    cmd = PostUpdate(message=message, status=status)
    _commit_form(rt, ack, body, channel, BlockId.MESSAGE, "update form", partial(record_update, rt, cmd))


def _commit_form(
    rt: Runtime,
    ack: Ack,
    body: dict[str, Any],
    channel: str,
    error_block: str,
    action: str,
    record: Callable[[Caller, str | None], Recorded],
) -> None:
    """Commit a validated form's change (with its delivery, so a retry is recognised) before it closes.

    A closed form tells the person their change is in. A failure keeps the form open, with what they
    typed and the reason on it; a slow database closes it with a "taking longer" note, then confirms.
    """
    _, _, user = button_context(body)
    if not user:
        ack()
        log.warning("form submitted without a user; ignored")
        return
    caller = Caller(user_id=user, channel_id=channel, reply=_room_reply(rt, channel, user))
    commit = commit_within_budget(rt, caller, action, partial(record, caller, interaction_key(body)))
    result = commit.result
    if isinstance(result, Exception) and not isinstance(result, RepeatedDelivery):
        ack(
            response_action="errors",
            errors={error_block: failure_message(result, action).removeprefix(":warning: ")},
        )
        return
    ack()
    carry_on_after_ack(rt, caller, action, commit)


def _room_reply(rt: Runtime, channel: str, user: str) -> Any:
    """Answer a modal in its room, only to the submitter; by DM when they have left the room."""

    def reply(text: str) -> None:
        try:
            rt.chat.notify(channel, user, text)
        except ChatError:
            rt.chat.tell(user, text)

    return reply
