"""Timeline capture from Slack: reactions on war-room messages and the "Add to incident timeline" shortcut."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, Respond

from bot.dedup import event_key, first_delivery, interaction_key
from bot.errors import DATABASE_ERRORS, ephemeral_reply, reporting
from bot.inputs import clean
from bot.runtime import Runtime
from commands.parsing import AddActionItem
from commands.timeline import PinnedMessage, add_action_item, pin_message, unpin_message

log = logging.getLogger(__name__)


def _is_war_room(rt: Runtime, channel_id: str) -> bool:
    with rt.uow() as tx:
        return tx.incidents.get_by_channel(channel_id) is not None


def _fetch(rt: Runtime, channel_id: str, ts: str) -> PinnedMessage | None:
    found = rt.chat.message(channel_id, ts)
    if found is None:
        return None
    author, text = found
    return PinnedMessage(
        channel_id=channel_id,
        ts=ts,
        author=author,
        text=clean(text),
        permalink=rt.chat.permalink(channel_id, ts),
    )


class DatabaseDownRetryLater(Exception):
    """Raised before answering an event the database cannot take now: Bolt answers 500, Slack redelivers."""


def on_reaction(rt: Runtime, reaction: Reaction) -> None:
    """Apply the configured action of a reaction; there is nobody to answer, so failures are logged."""
    try:
        _apply_reaction(rt, reaction)
    except DATABASE_ERRORS as exc:
        # Only when the database failed between the check before the ack and this write.
        kind = type(exc).__name__
        log.warning("reaction %s not recorded: database unavailable (%s)", reaction.delivery, kind)


@dataclass(frozen=True)
class Reaction:
    """A configured reaction on a war-room message, accepted for processing."""

    action: str
    channel: str
    ts: str
    user: str
    delivery: str | None
    removed: bool


def accept_reaction(
    rt: Runtime, body: dict[str, Any], event: dict[str, Any], removed: bool
) -> Reaction | None:
    """Decide before answering Slack whether a reaction is ours; a database that is down gets a retry.

    The war-room check is the one database read of the ack path. If it fails, the 500 makes Slack send
    the event again (after about 1 and 5 minutes), so a reaction during a short outage is not lost.
    """
    action = rt.config.timeline_reactions.get(str(event.get("reaction", "")))
    item = event.get("item") or {}
    if action is None or item.get("type") != "message":
        return None  # reactions outside the configured map are none of our business
    channel, ts = str(item.get("channel", "")), str(item.get("ts", ""))
    try:
        if not _is_war_room(rt, channel):
            return None
    except DATABASE_ERRORS as exc:
        log.warning("reaction event: database unavailable (%s); asking Slack to retry", type(exc).__name__)
        # `from None`: Bolt logs this error, and the database error's text would carry the SQL.
        raise DatabaseDownRetryLater("database unavailable; Slack will deliver the event again") from None
    return Reaction(action, channel, ts, str(event.get("user", "")), event_key(body), removed)


def _apply_reaction(rt: Runtime, reaction: Reaction) -> None:
    channel, ts, delivery = reaction.channel, reaction.ts, reaction.delivery
    if reaction.removed:
        if reaction.action == "pin":
            unpin_message(channel_id=channel, ts=ts, uow=rt.uow, clock=rt.clock, delivery=delivery)
        return
    message = _fetch(rt, channel, ts)
    if message is None:
        return
    if reaction.action == "pin":
        pin_message(message, pinned_by=reaction.user, uow=rt.uow, clock=rt.clock, delivery=delivery)
    elif reaction.action == "action" and first_delivery(rt.uow, rt.clock, delivery):
        add_action_item(
            AddActionItem(text=message.text[:2000] or "(empty message)"),
            user_id=reaction.user,
            channel_id=channel,
            uow=rt.uow,
            clock=rt.clock,
        )


def handle_reaction_added(body: dict[str, Any], event: dict[str, Any], context: dict[str, Any]) -> None:
    rt: Runtime = context["runtime"]
    reaction = accept_reaction(rt, body, event, removed=False)
    if reaction is not None:
        rt.submit(on_reaction, rt, reaction)


def handle_reaction_removed(body: dict[str, Any], event: dict[str, Any], context: dict[str, Any]) -> None:
    rt: Runtime = context["runtime"]
    reaction = accept_reaction(rt, body, event, removed=True)
    if reaction is not None:
        rt.submit(on_reaction, rt, reaction)


def handle_add_to_timeline_shortcut(
    ack: Ack, shortcut: dict[str, Any], respond: Respond, context: dict[str, Any]
) -> None:
    rt: Runtime = context["runtime"]
    ack()
    channel = str((shortcut.get("channel") or {}).get("id") or "")
    raw = shortcut.get("message") or {}
    ts = str(raw.get("ts") or shortcut.get("message_ts") or "")
    user = str((shortcut.get("user") or {}).get("id") or "")
    key = interaction_key(shortcut)

    reply = ephemeral_reply(respond)

    def work() -> None:
        with reporting(reply, "add to timeline"):
            if not first_delivery(rt.uow, rt.clock, key):
                return
            if not ts or not _is_war_room(rt, channel):
                reply("Messages can be added to an incident's timeline only from its war room.")
                return
            message = PinnedMessage(
                channel_id=channel,
                ts=ts,
                author=raw.get("user") or raw.get("bot_id"),
                text=clean(str(raw.get("text") or "")),
                permalink=rt.chat.permalink(channel, ts),
            )
            added = pin_message(message, pinned_by=user, uow=rt.uow, clock=rt.clock)
            reply(":pushpin: Added to the timeline." if added else "That message is already on the timeline.")

    rt.submit(work)
