"""The /incident slash command: parsed and handed to the acknowledgement pipeline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack

from bot.listeners.inputs import clean
from bot.pipeline.acknowledge import Intake, Surface, acknowledge
from bot.pipeline.replies import ephemeral_reply
from bot.pipeline.runtime import Runtime
from commands.feature import Ask
from commands.parsing import parse


def handle_incident_command(
    ack: Ack, command: dict[str, Any], respond: Callable[..., object], context: dict[str, Any]
) -> None:
    rt: Runtime = context["runtime"]
    # Slack always sends these; a payload without them still gets an answer rather than a KeyError.
    text = clean(str(command.get("text") or ""))
    intake = Intake(
        surface=Surface.COMMAND,
        ask=Ask(user_id=str(command.get("user_id") or ""), channel_id=command.get("channel_id")),
        reply=ephemeral_reply(respond),
        parse=lambda: parse(
            text,
            severities=rt.config.severity_names(),
            roles=list(rt.config.roles),
            statuses=rt.config.statuses,
            types=rt.config.type_names(),
            services=rt.config.service_names(),
        ),
        trigger_id=str(command.get("trigger_id") or ""),
    )
    acknowledge(rt, ack, intake)
