"""Timeline capture from Slack: reactions on war-room messages and the "Add to incident timeline" shortcut."""

from __future__ import annotations

import logging
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


def on_reaction(rt: Runtime, event: dict[str, Any], delivery: str | None, removed: bool) -> None:
    """Apply the configured action of a reaction; there is nobody to answer, so failures are logged."""
    try:
        _apply_reaction(rt, event, delivery, removed)
    except DATABASE_ERRORS as exc:
        # Slack has its 200 already and will not redeliver: say plainly what was dropped.
        log.warning("reaction %s not recorded: database unavailable (%s)", delivery, type(exc).__name__)


def _apply_reaction(rt: Runtime, event: dict[str, Any], delivery: str | None, removed: bool) -> None:
    """Reactions outside war rooms are none of our business."""
    action = rt.config.timeline_reactions.get(str(event.get("reaction", "")))
    item = event.get("item") or {}
    if action is None or item.get("type") != "message":
        return
    channel, ts = str(item.get("channel", "")), str(item.get("ts", ""))
    if not _is_war_room(rt, channel):
        return
    if removed:
        if action == "pin":
            unpin_message(channel_id=channel, ts=ts, uow=rt.uow, clock=rt.clock, delivery=delivery)
        return
    message = _fetch(rt, channel, ts)
    if message is None:
        return
    if action == "pin":
        pin_message(
            message, pinned_by=str(event.get("user", "")), uow=rt.uow, clock=rt.clock, delivery=delivery
        )
    elif action == "action" and first_delivery(rt.uow, rt.clock, delivery):
        add_action_item(
            AddActionItem(text=message.text[:2000] or "(empty message)"),
            user_id=str(event.get("user", "")),
            channel_id=channel,
            uow=rt.uow,
            clock=rt.clock,
        )


def handle_reaction_added(body: dict[str, Any], event: dict[str, Any], context: dict[str, Any]) -> None:
    rt: Runtime = context["runtime"]
    rt.submit(on_reaction, rt, event, event_key(body), False)


def handle_reaction_removed(body: dict[str, Any], event: dict[str, Any], context: dict[str, Any]) -> None:
    rt: Runtime = context["runtime"]
    rt.submit(on_reaction, rt, event, event_key(body), True)


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
