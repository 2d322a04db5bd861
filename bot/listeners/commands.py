"""The /incident slash command: parse, acknowledge at once (a declare once committed), act on a worker."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond

from bot.listeners.inputs import clean
from bot.listeners.room_forms import open_update_form
from bot.listeners.shortcuts import open_declare_modal
from bot.pipeline.actions import Caller, perform, record_first
from bot.pipeline.declaring import Declaration
from bot.pipeline.recording import record_then_ack
from bot.pipeline.replies import ephemeral_reply
from bot.pipeline.runtime import Runtime
from bot.render.mrkdwn import escape
from commands.errors import UsageError
from commands.parsing import Declare, Help, OpenDeclareForm, OpenUpdateForm, help_text, parse


def handle_incident_command(
    ack: Ack, command: dict[str, Any], respond: Respond, context: dict[str, Any]
) -> None:
    rt: Runtime = context["runtime"]
    # Slack always sends these; a payload without them still gets an answer rather than a KeyError.
    user = str(command.get("user_id") or "")
    trigger = str(command.get("trigger_id") or "")
    try:
        cmd = parse(
            clean(str(command.get("text") or "")),
            severities=rt.config.severity_names(),
            roles=list(rt.config.roles),
            statuses=rt.config.statuses,
        )
    except UsageError as exc:
        # The message quotes what was typed and shows `<title>`-style grammar: escape it, so neither
        # pings anyone nor turns into a broken link.
        ack(response_type="ephemeral", text=escape(exc.message))
        return
    if isinstance(cmd, Help):
        ack(response_type="ephemeral", text=escape(help_text()))
        return
    if isinstance(cmd, OpenDeclareForm):
        ack()
        rt.open_form(open_declare_modal, rt, trigger, command.get("channel_id"), user)
        return

    reply = ephemeral_reply(respond)

    if isinstance(cmd, OpenUpdateForm):
        ack()
        rt.open_form(
            open_update_form,
            rt,
            trigger,
            command.get("channel_id") or "",
            user,
            reply,
        )
        return
    caller = Caller(user_id=user, channel_id=command.get("channel_id"), reply=reply)
    if isinstance(cmd, Declare):
        # Committed before the ack, so what the person is told was declared survives a crash.
        declaration = Declaration(rt, cmd, caller)
        outcome = declaration.record()
        ack(response_type="ephemeral", text=outcome.acknowledgement(cmd.title))
        declaration.carry_on(outcome)
        return
    record = record_first(rt, cmd, caller)
    if record is not None:
        record_then_ack(rt, ack, caller, type(cmd).__name__, record)
        return
    ack()
    rt.submit(perform, rt, cmd, caller)
