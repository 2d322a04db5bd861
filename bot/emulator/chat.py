"""chat.*, pins.add and reactions.add: posting, editing and marking messages with Slack's checks."""

from __future__ import annotations

from typing import Any

from .access import Args, Handler, conversation, joined, message, not_archived, postable
from .blocks import validate_message_content
from .state import PERMALINK_BASE, EmulatorState, Message, SlackError


def chat_post_message(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Post as the bot: target, membership, archive state, then text/blocks/metadata rules."""
    chan = postable(st, a)
    content = validate_message_content(a)
    thread_ts = str(a["thread_ts"]) if a.get("thread_ts") else None
    msg = st.post(chan, st.bot_user_id, thread_ts=thread_ts, **content)
    return {"channel": chan.id, "ts": msg.ts, "message": msg.to_api(include_metadata=True)}


def chat_update(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Edit one of the bot's messages in a channel it is in, keeping the previous version."""
    chan = joined(st, a)
    msg = message(chan, a["ts"])
    if msg.user != st.bot_user_id:
        raise SlackError("cant_update_message")
    content = validate_message_content(a, required="text" in a or "blocks" in a)
    msg.history.append(
        {"text": msg.text, "blocks": msg.blocks, "metadata": msg.metadata, "edited_ts": st.next_ts()}
    )
    if "text" in a or "blocks" in a:
        msg.text = content["text"]
    if "blocks" in a:
        msg.blocks = content.get("blocks")
    if "metadata" in content:
        msg.metadata = content["metadata"]
    msg.edited = True
    return {"channel": chan.id, "ts": msg.ts, "text": msg.text, "message": msg.to_api(include_metadata=True)}


def chat_post_ephemeral(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Show a message to one member of the channel (same target rules as chat.postMessage)."""
    chan = postable(st, a)
    content = validate_message_content(a)
    content.pop("metadata", None)
    user = str(a["user"])
    if user not in chan.members:
        raise SlackError("user_not_in_channel")
    msg = Message(ts=st.next_ts(), user=st.bot_user_id, ephemeral_to=user, **content)
    chan.ephemerals.append(msg)
    return {"message_ts": msg.ts}


def chat_get_permalink(st: EmulatorState, a: Args) -> dict[str, Any]:
    """A stable fake permalink for a message in a channel the bot is in."""
    chan = joined(st, a)
    msg = message(chan, a["message_ts"])
    return {
        "channel": chan.id,
        "permalink": f"{PERMALINK_BASE}/archives/{chan.id}/p{msg.ts.replace('.', '')}",
    }


def pins_add(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Pin a message once, in a channel the bot is in."""
    chan = joined(st, a)
    if not a.get("timestamp"):
        raise SlackError("no_item_specified")
    msg = message(chan, a["timestamp"])
    if msg.ts in chan.pins:
        raise SlackError("already_pinned")
    chan.pins.add(msg.ts)
    return {}


def reactions_add(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Add the bot's reaction to a message in a conversation it can see."""
    chan = conversation(st, a)
    msg = message(chan, a["timestamp"])
    not_archived(chan)
    users = msg.reactions.setdefault(str(a["name"]).strip(":"), [])
    if st.bot_user_id in users:
        raise SlackError("already_reacted")
    users.append(st.bot_user_id)
    return {}


CHAT_METHODS: dict[str, Handler] = {
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.getPermalink": chat_get_permalink,
    "pins.add": pins_add,
    "reactions.add": reactions_add,
}
