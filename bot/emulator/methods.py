"""Web API method handlers: Slack semantics (errors, response shapes) over the in-memory state."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .blocks import validate_message_content, views_open, views_publish, views_push, views_update
from .state import BOT_ID, PERMALINK_BASE, Channel, EmulatorState, Message, SlackError

Args = dict[str, Any]
Handler = Callable[[EmulatorState, Args], dict[str, Any]]

CHANNEL_NAME_MAX = 80
CHANNEL_NAME_RE = re.compile(r"^[a-z0-9_-]+$")
MAX_TOPIC = 250
DEFAULT_PAGE = 100


def _bool(a: Args, key: str) -> bool:
    """Interpret Slack's boolean conventions ("true", "1", true)."""
    return str(a.get(key, "")).lower() in ("1", "true")


def _int(a: Args, key: str, default: int) -> int:
    """Parse an integer argument, falling back to Slack's default when absent or malformed."""
    try:
        return int(a[key])
    except (KeyError, TypeError, ValueError):
        return default


def _channel(st: EmulatorState, a: Args, key: str = "channel", *, by_name: bool = False) -> Channel:
    """Resolve the channel argument or raise channel_not_found.

    Only the posting methods accept a channel *name* on real Slack; everything else wants an id.
    """
    return st.resolve_channel(str(a.get(key) or ""), by_name=by_name)


def _writable(st: EmulatorState, chan: Channel) -> None:
    """Apply the bot-must-be-a-member and not-archived rules shared by write methods."""
    if chan.archived:
        raise SlackError("is_archived")
    if st.bot_user_id not in chan.members:
        raise SlackError("not_in_channel")


def _message(chan: Channel, ts: Any) -> Message:
    """Find a message by ts or raise message_not_found."""
    msg = chan.find(str(ts or ""))
    if msg is None:
        raise SlackError("message_not_found")
    return msg


def _page(items: list[Any], a: Args) -> tuple[list[Any], str]:
    """Slice a list with Slack's opaque-cursor pagination (the cursor is an offset here)."""
    limit = max(1, min(_int(a, "limit", DEFAULT_PAGE) or DEFAULT_PAGE, 1000))
    cursor = str(a.get("cursor") or "")
    if cursor and not cursor.startswith("offset:"):
        raise SlackError("invalid_cursor")
    start = int(cursor[7:]) if cursor[7:].isdigit() else 0
    chunk = items[start : start + limit]
    return chunk, (f"offset:{start + limit}" if start + limit < len(items) else "")


def auth_test(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Describe the bot identity, as bolt does at startup."""
    return {
        "url": f"{PERMALINK_BASE}/",
        "team": "Emulator",
        "user": st.users[st.bot_user_id].name,
        "team_id": st.team_id,
        "user_id": st.bot_user_id,
        "bot_id": BOT_ID,
        "is_enterprise_install": False,
    }


def conversations_create(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Create a channel with Slack's naming rules; the bot becomes creator and member."""
    name = str(a.get("name") or "")
    if not name:
        raise SlackError("invalid_name_required")
    if len(name) > CHANNEL_NAME_MAX:
        raise SlackError("invalid_name_maxlength")
    if not CHANNEL_NAME_RE.match(name):
        raise SlackError("invalid_name_specials")
    if not name.strip("-_"):
        raise SlackError("invalid_name_punctuation")
    if any(c.name == name for c in st.channels.values() if not c.is_im):
        raise SlackError("name_taken")
    chan = st.add_channel(name, private=_bool(a, "is_private"), members={st.bot_user_id})
    return {"channel": chan.to_api(st.bot_user_id)}


def conversations_invite(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Add users to a channel, failing like Slack on unknown users or when nothing changes."""
    chan = _channel(st, a)
    if chan.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    _writable(st, chan)
    users = [u.strip() for u in str(a["users"]).split(",") if u.strip()]
    if not users:
        raise SlackError("no_user")
    if st.bot_user_id in users:
        raise SlackError("cant_invite_self")
    if any(u not in st.users for u in users):
        raise SlackError("user_not_found")
    new = [u for u in users if u not in chan.members]
    if not new:
        raise SlackError("already_in_channel")
    chan.members.update(new)
    return {"channel": chan.to_api(st.bot_user_id)}


def conversations_join(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Let the bot join a public channel (private ones need an invite)."""
    chan = _channel(st, a)
    if chan.is_private or chan.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    if chan.archived:
        raise SlackError("is_archived")
    out: dict[str, Any] = {}
    if st.bot_user_id in chan.members:
        out = {"warning": "already_in_channel", "response_metadata": {"warnings": ["already_in_channel"]}}
    chan.members.add(st.bot_user_id)
    return {"channel": chan.to_api(st.bot_user_id), **out}


def conversations_info(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Describe a channel."""
    return {"channel": _channel(st, a).to_api(st.bot_user_id)}


def conversations_open(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Open the bot's DM with one user (multi-person DMs are not modelled)."""
    users = [u for u in str(a.get("users") or "").split(",") if u]
    if a.get("channel"):
        return {"channel": {"id": _channel(st, a).id}}
    if len(users) != 1:
        raise SlackError("users_list_not_supplied" if not users else "not_supported")
    if users[0] not in st.users:
        raise SlackError("user_not_found")
    return {"channel": {"id": st.open_im(users[0]).id}}


def _set_text_field(st: EmulatorState, a: Args, attr: str) -> dict[str, Any]:
    """Shared body of setTopic/setPurpose."""
    chan = _channel(st, a)
    _writable(st, chan)
    value = str(a[attr])
    if len(value) > MAX_TOPIC:
        raise SlackError("too_long")
    setattr(chan, attr, value)
    return {"channel": chan.to_api(st.bot_user_id), attr: value}


def conversations_set_topic(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Set a channel topic (the bot must be a member)."""
    return _set_text_field(st, a, "topic")


def conversations_set_purpose(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Set a channel purpose (the bot must be a member)."""
    return _set_text_field(st, a, "purpose")


def conversations_members(st: EmulatorState, a: Args) -> dict[str, Any]:
    """List channel members with cursor pagination."""
    chunk, cursor = _page(sorted(_channel(st, a).members), a)
    return {"members": chunk, "response_metadata": {"next_cursor": cursor}}


def _window(messages: list[Message], a: Args) -> list[Message]:
    """Filter by oldest/latest (exclusive unless inclusive=true) as history and replies do."""
    inclusive = _bool(a, "inclusive")
    oldest, latest = float(a.get("oldest") or 0), float(a.get("latest") or 1e12)

    def keep(m: Message) -> bool:
        t = float(m.ts)
        return (oldest <= t <= latest) if inclusive else (oldest < t < latest)

    return [m for m in messages if keep(m)]


def conversations_history(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Return top-level messages newest first (thread replies excluded, like Slack)."""
    chan = _channel(st, a)
    top = [m for m in chan.messages if m.thread_ts in (None, m.ts)]
    msgs = sorted(_window(top, a), key=lambda m: float(m.ts), reverse=True)
    chunk, cursor = _page(msgs, a)
    meta = _bool(a, "include_all_metadata")
    return {
        "messages": [m.to_api(include_metadata=meta) for m in chunk],
        "has_more": bool(cursor),
        "pin_count": len(chan.pins),
        "response_metadata": {"next_cursor": cursor},
    }


def conversations_replies(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Return a thread (parent first, then replies oldest first)."""
    chan = _channel(st, a)
    parent = _message(chan, a["ts"])
    thread = [m for m in chan.messages if m is parent or m.thread_ts == parent.ts]
    chunk, cursor = _page(_window(thread, a) if ("oldest" in a or "latest" in a) else thread, a)
    meta = _bool(a, "include_all_metadata")
    return {
        "messages": [m.to_api(include_metadata=meta) for m in chunk],
        "has_more": bool(cursor),
        "response_metadata": {"next_cursor": cursor},
    }


def conversations_list(st: EmulatorState, a: Args) -> dict[str, Any]:
    """List conversations visible to the bot, filtered by types/exclude_archived, paginated."""
    types = {t.strip() for t in str(a.get("types") or "public_channel").split(",")}
    exclude_archived = _bool(a, "exclude_archived")

    def visible(c: Channel) -> bool:
        if exclude_archived and c.archived:
            return False
        if c.is_im:
            return "im" in types and st.bot_user_id in c.members
        if c.is_private:
            return "private_channel" in types and st.bot_user_id in c.members
        return "public_channel" in types

    chans = [c for c in st.channels.values() if visible(c)]
    chunk, cursor = _page(chans, a)
    return {
        "channels": [c.to_api(st.bot_user_id) for c in chunk],
        "response_metadata": {"next_cursor": cursor},
    }


def conversations_archive(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Archive a channel the bot is in."""
    chan = _channel(st, a)
    if chan.archived:
        raise SlackError("already_archived")
    if chan.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    if st.bot_user_id not in chan.members:
        raise SlackError("not_in_channel")
    chan.archived = True
    return {}


def chat_post_message(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Post as the bot, enforcing membership, archive state, text/blocks/metadata rules."""
    chan = _channel(st, a, by_name=True)
    content = validate_message_content(a)
    _writable(st, chan)
    thread_ts = str(a["thread_ts"]) if a.get("thread_ts") else None
    msg = st.post(chan, st.bot_user_id, thread_ts=thread_ts, **content)
    return {"channel": chan.id, "ts": msg.ts, "message": msg.to_api(include_metadata=True)}


def chat_update(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Edit one of the bot's messages, keeping the previous version in its history."""
    chan = _channel(st, a)
    msg = _message(chan, a["ts"])
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
    """Record a message only one member can see."""
    chan = _channel(st, a, by_name=True)
    content = validate_message_content(a)
    content.pop("metadata", None)
    _writable(st, chan)
    user = str(a["user"])
    if user not in chan.members:
        raise SlackError("user_not_in_channel")
    msg = Message(ts=st.next_ts(), user=st.bot_user_id, ephemeral_to=user, **content)
    chan.ephemerals.append(msg)
    return {"message_ts": msg.ts}


def chat_get_permalink(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Return a stable fake permalink for an existing message."""
    chan = _channel(st, a)
    msg = _message(chan, a["message_ts"])
    return {
        "channel": chan.id,
        "permalink": f"{PERMALINK_BASE}/archives/{chan.id}/p{msg.ts.replace('.', '')}",
    }


def pins_add(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Pin a message once."""
    chan = _channel(st, a)
    if not a.get("timestamp"):
        raise SlackError("no_item_specified")
    msg = _message(chan, a["timestamp"])
    if st.bot_user_id not in chan.members:
        raise SlackError("not_in_channel")
    if msg.ts in chan.pins:
        raise SlackError("already_pinned")
    chan.pins.add(msg.ts)
    return {}


def reactions_add(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Add the bot's reaction to a message."""
    chan = _channel(st, a)
    msg = _message(chan, a["timestamp"])
    if chan.archived:
        raise SlackError("is_archived")
    users = msg.reactions.setdefault(str(a["name"]).strip(":"), [])
    if st.bot_user_id in users:
        raise SlackError("already_reacted")
    users.append(st.bot_user_id)
    return {}


def users_info(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Describe a known user."""
    user = st.users.get(str(a["user"]))
    if user is None:
        raise SlackError("user_not_found")
    return {"user": user.to_api(st.team_id)}


def usergroups_users_list(st: EmulatorState, a: Args) -> dict[str, Any]:
    """List members of a user group."""
    group = st.usergroups.get(str(a["usergroup"]))
    if group is None:
        raise SlackError("no_such_subteam")
    return {"users": list(group[1])}


def usergroups_list(st: EmulatorState, a: Args) -> dict[str, Any]:
    """List user groups (with users when include_users=true)."""
    groups = []
    for gid, (handle, users) in st.usergroups.items():
        entry: dict[str, Any] = {"id": gid, "team_id": st.team_id, "handle": handle, "name": handle}
        entry["user_count"] = len(users)
        if _bool(a, "include_users"):
            entry["users"] = list(users)
        groups.append(entry)
    return {"usergroups": groups}


# Dispatch table: Slack method name -> handler.
METHODS: dict[str, Handler] = {
    "auth.test": auth_test,
    "conversations.create": conversations_create,
    "conversations.invite": conversations_invite,
    "conversations.join": conversations_join,
    "conversations.info": conversations_info,
    "conversations.open": conversations_open,
    "conversations.setTopic": conversations_set_topic,
    "conversations.setPurpose": conversations_set_purpose,
    "conversations.members": conversations_members,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
    "conversations.list": conversations_list,
    "conversations.archive": conversations_archive,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.getPermalink": chat_get_permalink,
    "pins.add": pins_add,
    "reactions.add": reactions_add,
    "users.info": users_info,
    "usergroups.users.list": usergroups_users_list,
    "usergroups.list": usergroups_list,
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
}
