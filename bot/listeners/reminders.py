"""Reminder buttons: post an update, snooze, or take command."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond

from bot.actions import Caller, assign
from bot.errors import ephemeral_reply, reporting
from bot.listeners.room_forms import open_update_form
from bot.runtime import Runtime
from commands.parsing import Assign
from commands.reminders import SNOOZE_CHOICES, snooze


def handle_reminder_update_button(
    ack: Ack, body: dict[str, Any], respond: Respond, context: dict[str, Any]
) -> None:
    rt: Runtime = context["runtime"]
    ack()
    rt.submit(
        open_update_form,
        rt,
        body["trigger_id"],
        body["channel"]["id"],
        body["user"]["id"],
        ephemeral_reply(respond),
    )


def handle_snooze_button(ack: Ack, body: dict[str, Any], respond: Respond, context: dict[str, Any]) -> None:
    rt: Runtime = context["runtime"]
    ack()
    choice = str(body["actions"][0].get("value", ""))
    channel, user = body["channel"]["id"], body["user"]["id"]
    reply = ephemeral_reply(respond)

    def work() -> None:
        with reporting(reply, "snooze"):
            if choice not in SNOOZE_CHOICES:
                reply("That snooze option is not available.")
                return
            ref, until = snooze(channel_id=channel, user_id=user, choice=choice, uow=rt.uow, clock=rt.clock)
            reply(f":zzz: {ref} update reminders snoozed until {rt.presenter.renderer.when(until)}.")

    rt.submit(work)


def handle_take_command_button(
    ack: Ack, body: dict[str, Any], respond: Respond, context: dict[str, Any]
) -> None:
    """ "I'll take it": the person who presses it becomes commander."""
    rt: Runtime = context["runtime"]
    ack()
    user = body["user"]["id"]
    caller = Caller(user_id=user, channel_id=body["channel"]["id"], reply=ephemeral_reply(respond))

    def work() -> None:
        with reporting(caller.reply, "take command"):
            assign(rt, Assign(role="commander", user_id=user), caller)

    rt.submit(work)
