"""Timeline capture from Slack: reactions on war-room messages and the "Add to incident timeline" shortcut."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, Respond

from bot.listeners.inputs import clean
from bot.listeners.room_forms import click
from bot.pipeline.acknowledge import Intake, Surface, acknowledge
from bot.pipeline.dedup import event_key
from bot.pipeline.runtime import Runtime
from commands.capture import Marked
from commands.feature import Ask
from commands.parsing import AddToTimeline


def _no_reply(text: str) -> None:
    """Events have nobody to answer: what a reaction does shows in the room and the timeline."""


def reaction_event(rt: Runtime, ack: Ack, body: dict[str, Any], event: dict[str, Any], removed: bool) -> None:
    """A configured reaction's capture job is committed before Slack gets its answer (else a 500)."""
    action = rt.config.timeline_reactions.get(str(event.get("reaction", "")))
    item = event.get("item") or {}
    if action is None or item.get("type") != "message":
        return  # reactions outside the configured map are none of our business
    channel, user = str(item.get("channel", "")), str(event.get("user", ""))
    marked = Marked(
        action=action,
        emoji=str(event.get("reaction", "")),
        channel=channel,
        ts=str(item.get("ts", "")),
        user=user,
        removed=removed,
    )
    intake = Intake(
        surface=Surface.EVENT,
        ask=Ask(user_id=user, channel_id=channel, delivery_key=event_key(body)),
        reply=_no_reply,
        parse=lambda: marked,
    )
    acknowledge(rt, ack, intake)


def handle_reaction_added(
    ack: Ack, body: dict[str, Any], event: dict[str, Any], context: dict[str, Any]
) -> None:
    reaction_event(context["runtime"], ack, body, event, removed=False)


def handle_reaction_removed(
    ack: Ack, body: dict[str, Any], event: dict[str, Any], context: dict[str, Any]
) -> None:
    reaction_event(context["runtime"], ack, body, event, removed=True)


def handle_add_to_timeline_shortcut(
    ack: Ack, shortcut: dict[str, Any], respond: Respond, context: dict[str, Any]
) -> None:
    raw = shortcut.get("message") or {}
    cmd = AddToTimeline(
        ts=str(raw.get("ts") or shortcut.get("message_ts") or ""),
        author=raw.get("user") or raw.get("bot_id"),
        text=clean(str(raw.get("text") or "")),
    )
    acknowledge(context["runtime"], ack, click(shortcut, respond, lambda: cmd))
