"""Timeline capture from Slack: reactions on war-room messages and the "Add to incident timeline" shortcut."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, Respond

from bot.listeners.inputs import clean
from bot.pipeline.dedup import event_key, first_delivery, interaction_key
from bot.pipeline.replies import DATABASE_ERRORS, ephemeral_reply, reporting
from bot.pipeline.runtime import Runtime
from commands.capture import Marked, record_reaction
from commands.timeline import PinnedMessage, pin_message

log = logging.getLogger(__name__)


def _is_war_room(rt: Runtime, channel_id: str) -> bool:
    with rt.uow() as tx:
        return tx.incidents.get_by_channel(channel_id) is not None


class DatabaseDownRetryLater(Exception):
    """Raised before answering an event the database cannot take now: Bolt answers 500, Slack redelivers."""


def record_reaction_event(rt: Runtime, body: dict[str, Any], event: dict[str, Any], removed: bool) -> None:
    """Commit what a configured reaction on a war-room message asks for before Slack gets its answer.

    The capture job is committed first (one short transaction with the delivery record), so a process
    killed after answering loses nothing; if the database is down the 500 makes Slack send the event
    again (after about 1 and 5 minutes). The message itself is read from Slack afterwards, by the job.
    """
    action = rt.config.timeline_reactions.get(str(event.get("reaction", "")))
    item = event.get("item") or {}
    if action is None or item.get("type") != "message":
        return  # reactions outside the configured map are none of our business
    marked = Marked(
        action=action,
        emoji=str(event.get("reaction", "")),
        channel=str(item.get("channel", "")),
        ts=str(item.get("ts", "")),
        user=str(event.get("user", "")),
        removed=removed,
    )
    try:
        job_id = record_reaction(marked, uow=rt.uow, clock=rt.clock, lease=rt.lease, delivery=event_key(body))
    except DATABASE_ERRORS as exc:
        log.warning("reaction event: database unavailable (%s); asking Slack to retry", type(exc).__name__)
        # `from None`: Bolt logs this error, and the database error's text would carry the SQL.
        raise DatabaseDownRetryLater("database unavailable; Slack will deliver the event again") from None
    if job_id is not None:
        rt.submit(rt.run_job, job_id, wait=False)


def handle_reaction_added(body: dict[str, Any], event: dict[str, Any], context: dict[str, Any]) -> None:
    record_reaction_event(context["runtime"], body, event, removed=False)


def handle_reaction_removed(body: dict[str, Any], event: dict[str, Any], context: dict[str, Any]) -> None:
    record_reaction_event(context["runtime"], body, event, removed=True)


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
