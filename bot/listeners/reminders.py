"""Reminder buttons: post an update, snooze, or take command; each click acts once, however often sent."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond

from bot.listeners.room_forms import button_context, button_value, click
from bot.pipeline.acknowledge import acknowledge
from commands.parsing import Assign, OpenUpdateForm, Resolve, Snooze
from commands.vocabulary import Role


def handle_reminder_update_button(
    ack: Ack, body: dict[str, Any], respond: Respond, context: dict[str, Any]
) -> None:
    acknowledge(context["runtime"], ack, click(body, respond, OpenUpdateForm))


def handle_snooze_button(ack: Ack, body: dict[str, Any], respond: Respond, context: dict[str, Any]) -> None:
    choice = button_value(body)
    acknowledge(context["runtime"], ack, click(body, respond, lambda: Snooze(choice)))


def handle_take_command_button(
    ack: Ack, body: dict[str, Any], respond: Respond, context: dict[str, Any]
) -> None:
    """ "I'll take it": the person who presses it becomes commander while nobody is, if the rule allows.

    Once someone is commander the button only says who: it is an answer to "nobody is commander".
    """
    _, _, user = button_context(body)
    intake = click(body, respond, lambda: Assign(role=Role.COMMANDER, user_id=user, vacant_only=True))
    acknowledge(context["runtime"], ack, intake)


def handle_stale_resolve_button(
    ack: Ack, body: dict[str, Any], respond: Respond, context: dict[str, Any]
) -> None:
    """The stale nudge's *Resolve*: `/incident resolve` without a summary, under the same permission rule."""
    acknowledge(context["runtime"], ack, click(body, respond, Resolve))
