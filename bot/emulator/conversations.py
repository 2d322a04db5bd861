"""conversations.* handlers: Slack's naming, membership, invite and pagination rules over the state."""

from __future__ import annotations

import re
from typing import Any

from . import scopes
from .access import Args, Handler, conversation, flag, joined, member_of, message, not_archived, visible
from .invites import conversations_invite
from .paging import MAX_HISTORY_LIMIT
from .state import Channel, EmulatorState, Message, SlackError

CHANNEL_NAME_MAX = 80
CHANNEL_NAME_RE = re.compile(r"^[a-z0-9_-]+$")
MAX_TOPIC = 250  # conversations.setTopic / setPurpose: too_long beyond


def conversations_create(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Create a channel with Slack's naming rules; the bot becomes creator and member."""
    name = str(a.get("name") or "")
    _check_name(name)
    if any(c.name == name for c in st.channels.values() if not c.is_im):
        raise SlackError("name_taken")  # archived channels keep their names
    chan = st.add_channel(name, private=flag(a, "is_private"), members={st.bot_user_id})
    return {"channel": chan.to_api(st.bot_user_id)}


def _check_name(name: str) -> None:
    """Slack's channel-name rules, shared by create and rename."""
    if not name:
        raise SlackError("invalid_name_required")
    if len(name) > CHANNEL_NAME_MAX:
        raise SlackError("invalid_name_maxlength")
    if not CHANNEL_NAME_RE.match(name):
        raise SlackError("invalid_name_specials")
    if not name.strip("-_"):
        raise SlackError("invalid_name_punctuation")


def conversations_rename(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Rename a channel the bot is in and created (only the creator or an admin may): its id stays.

    https://docs.slack.dev/reference/methods/conversations.rename: IMs cannot be renamed, an archived
    channel refuses, a name in use (archived channels' included, and the channel's own) is `name_taken`.
    """
    chan = conversation(st, a)
    if chan.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    member_of(st, chan)
    not_archived(chan)
    if chan.creator != st.bot_user_id:
        raise SlackError("not_authorized")
    name = str(a.get("name") or "")
    _check_name(name)
    if any(c.name == name for c in st.channels.values() if not c.is_im):
        raise SlackError("name_taken")
    chan.name = name
    return {"channel": chan.to_api(st.bot_user_id)}


def conversations_join(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Let the bot join a public channel (private ones need an invite)."""
    chan = conversation(st, a)
    if chan.is_private or chan.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    not_archived(chan)
    out: dict[str, Any] = {}
    if st.bot_user_id in chan.members:
        out = {"warning": "already_in_channel", "response_metadata": {"warnings": ["already_in_channel"]}}
    chan.members.add(st.bot_user_id)
    return {"channel": chan.to_api(st.bot_user_id), **out}


def conversations_info(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Describe a channel the bot can see."""
    return {"channel": conversation(st, a).to_api(st.bot_user_id)}


def conversations_open(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Open the bot's DM with one user (multi-person DMs are not modelled); user_disabled if deactivated."""
    if a.get("channel"):
        return {"channel": {"id": conversation(st, a).id}}
    users = [u for u in str(a.get("users") or "").split(",") if u]
    if len(users) != 1:
        raise SlackError("users_list_not_supplied" if not users else "not_supported")
    user = st.users.get(users[0])
    if user is None:
        raise SlackError("user_not_found")
    if user.deleted:
        raise SlackError("user_disabled")
    return {"channel": {"id": st.open_im(user.id).id}}


def _set_text_field(st: EmulatorState, a: Args, attr: str) -> dict[str, Any]:
    """Shared body of setTopic/setPurpose: the bot must be in the channel."""
    chan = not_archived(joined(st, a))
    value = str(a[attr])
    if len(value) > MAX_TOPIC:
        raise SlackError("too_long")
    setattr(chan, attr, value)
    return {"channel": chan.to_api(st.bot_user_id), attr: value}


def conversations_set_topic(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Set a channel topic."""
    return _set_text_field(st, a, "topic")


def conversations_set_purpose(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Set a channel purpose."""
    return _set_text_field(st, a, "purpose")


def conversations_members(st: EmulatorState, a: Args) -> dict[str, Any]:
    """List members of a channel the bot can see, one page at a time."""
    chan = conversation(st, a)
    page = st.pager.page(sorted(chan.members), a, f"members:{chan.id}")
    return {"members": page.items, "response_metadata": page.metadata()}


def _window(messages: list[Message], a: Args) -> list[Message]:
    """Filter by oldest/latest (exclusive unless inclusive=true) as history and replies do."""
    inclusive = flag(a, "inclusive")
    try:
        oldest, latest = float(a.get("oldest") or 0), float(a.get("latest") or 1e12)
    except ValueError:
        raise SlackError("invalid_ts_oldest" if "oldest" in a else "invalid_ts_latest") from None

    def keep(m: Message) -> bool:
        t = float(m.ts)
        return (oldest <= t <= latest) if inclusive else (oldest < t < latest)

    return [m for m in messages if keep(m)]


def conversations_history(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Top-level messages newest first (thread replies excluded), one page at a time."""
    chan = joined(st, a)
    top = [m for m in chan.messages if m.thread_ts in (None, m.ts)]
    msgs = sorted(_window(top, a), key=lambda m: float(m.ts), reverse=True)
    page = st.pager.page(msgs, a, f"history:{chan.id}", max_limit=MAX_HISTORY_LIMIT)
    meta = flag(a, "include_all_metadata")
    return {
        "messages": [m.to_api(include_metadata=meta) for m in page.items],
        "has_more": bool(page.next_cursor),
        "pin_count": len(chan.pins),
        "response_metadata": page.metadata(),
    }


def conversations_replies(st: EmulatorState, a: Args) -> dict[str, Any]:
    """A thread (parent first, then replies oldest first), one page at a time.

    https://docs.slack.dev/reference/methods/conversations.replies: `ts` is "either a thread's parent
    message or a message in the thread".
    """
    chan = joined(st, a)
    found = message(chan, a["ts"], "thread_not_found")
    # `ts` may be the parent "or a message in the thread": either way the whole thread comes back.
    parent = message(chan, found.thread_ts) if found.thread_ts and found.thread_ts != found.ts else found
    thread = [m for m in chan.messages if m is parent or m.thread_ts == parent.ts]
    window = _window(thread, a) if ("oldest" in a or "latest" in a) else thread
    page = st.pager.page(window, a, f"replies:{chan.id}:{parent.ts}")
    meta = flag(a, "include_all_metadata")
    return {
        "messages": [m.to_api(include_metadata=meta) for m in page.items],
        "has_more": bool(page.next_cursor),
        "response_metadata": page.metadata(),
    }


def conversations_list(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Conversations visible to the bot, filtered by types/exclude_archived, one page at a time."""
    kinds = set(scopes.list_kinds(a))
    exclude_archived = flag(a, "exclude_archived")

    def listed(c: Channel) -> bool:
        return scopes.kind_of(c) in kinds and visible(st, c) and not (exclude_archived and c.archived)

    page = st.pager.page([c for c in st.channels.values() if listed(c)], a, f"list:{','.join(sorted(kinds))}")
    return {"channels": [c.to_api(st.bot_user_id) for c in page.items], "response_metadata": page.metadata()}


def conversations_archive(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Archive a channel the bot is in; never #general (https://docs.slack.dev/reference/methods/conversations.archive).

    A workspace setting that forbids it (`restricted_action`) is not modelled: use `emu.error(...)`.
    """
    chan = conversation(st, a)
    if chan.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    if chan.archived:
        raise SlackError("already_archived")
    if chan.is_general:
        raise SlackError("cant_archive_general")
    joined(st, a)
    chan.archived = True
    return {}


CONVERSATION_METHODS: dict[str, Handler] = {
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
    "conversations.rename": conversations_rename,
}
