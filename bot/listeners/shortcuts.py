"""Shortcuts: the global "Declare incident" opens the same form as `/incident declare`."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond

from bot.listeners.room_forms import click
from bot.pipeline.acknowledge import acknowledge
from commands.parsing import OpenDeclareForm


def handle_declare_shortcut(
    ack: Ack, shortcut: dict[str, Any], respond: Respond, context: dict[str, Any]
) -> None:
    acknowledge(context["runtime"], ack, click(shortcut, respond, OpenDeclareForm))
