"""Reminder buttons: post an update, snooze, or take command; each click acts once, however often sent."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import Ack, Respond

from bot.listeners.room_forms import button_context, open_update_form
from bot.pipeline.actions import Caller, Recorded, record_assignment
from bot.pipeline.dedup import interaction_key
from bot.pipeline.recording import carry_on_after_ack, commit_within_budget
from bot.pipeline.replies import ephemeral_reply
from bot.pipeline.runtime import Runtime
from commands.errors import UsageError
from commands.parsing import Assign
from commands.reminders import SNOOZE_CHOICES, snooze


def handle_reminder_update_button(
    ack: Ack, body: dict[str, Any], respond: Respond, context: dict[str, Any]
) -> None:
    rt: Runtime = context["runtime"]
    ack()
    trigger, channel, user = button_context(body)
    rt.open_form(
        open_update_form, rt, trigger, channel, user, ephemeral_reply(respond), interaction_key(body)
    )


def handle_snooze_button(ack: Ack, body: dict[str, Any], respond: Respond, context: dict[str, Any]) -> None:
    rt: Runtime = context["runtime"]
    actions = body.get("actions") or [{}]
    choice = str((actions[0] if isinstance(actions[0], dict) else {}).get("value") or "")
    _, channel, user = button_context(body)
    caller = Caller(user_id=user, channel_id=channel, reply=ephemeral_reply(respond))
    key = interaction_key(body)

    def record() -> Recorded:
        if choice not in SNOOZE_CHOICES:
            raise UsageError("That snooze option is not available.")
        ref, until = snooze(
            channel_id=channel, user_id=user, choice=choice, uow=rt.uow, clock=rt.clock, delivery_key=key
        )
        text = f":zzz: {ref} update reminders snoozed until {rt.presenter.renderer.when(until)}."
        return Recorded(then=partial(caller.reply, text))

    _commit_then_ack(rt, ack, caller, "snooze", record)


def handle_take_command_button(
    ack: Ack, body: dict[str, Any], respond: Respond, context: dict[str, Any]
) -> None:
    """ "I'll take it": the person who presses it becomes commander while nobody is, if the rule allows.

    Once someone is commander the button only says who: it is an answer to "nobody is commander".
    """
    rt: Runtime = context["runtime"]
    _, channel, user = button_context(body)
    caller = Caller(user_id=user, channel_id=channel, reply=ephemeral_reply(respond))
    cmd = Assign(role="commander", user_id=user)
    record = partial(record_assignment, rt, cmd, caller, interaction_key(body), vacant_only=True)
    _commit_then_ack(rt, ack, caller, "take command", record)


def _commit_then_ack(
    rt: Runtime, ack: Ack, caller: Caller, action: str, record: Callable[[], Recorded]
) -> None:
    """A button's change is committed before Slack hears back, so a crash after the click loses nothing."""
    if not caller.user_id or not caller.channel_id:
        ack()  # Slack always sends both; without them there is nobody to act for or answer
        return
    commit = commit_within_budget(rt, caller, action, record)
    ack()
    carry_on_after_ack(rt, caller, action, commit)
