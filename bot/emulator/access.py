"""Which conversations a bot token may see, read and write, and the errors Slack gives otherwise.

Slack hides private channels and IMs the bot is not in (`channel_not_found`, as if they did not exist)
and refuses reads and writes in public channels it has not joined (`not_in_channel`); see the method
reference pages, e.g. https://docs.slack.dev/reference/methods/conversations.history and
https://docs.slack.dev/reference/methods/chat.postMessage. Posting to a user ID (or to the bot's own DM)
needs the App Home Messages tab (https://docs.slack.dev/surfaces/app-home): `messages_tab_disabled`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import scopes
from .state import Channel, EmulatorState, Message, SlackError

Args = dict[str, Any]
Handler = Callable[[EmulatorState, Args], dict[str, Any]]


def flag(a: Args, key: str) -> bool:
    """Interpret Slack's boolean conventions ("true", "1", true)."""
    return str(a.get(key, "")).lower() in ("1", "true")


def integer(a: Args, key: str, default: int) -> int:
    """Parse an integer argument, falling back to Slack's default when absent or malformed."""
    try:
        return int(a[key])
    except (KeyError, TypeError, ValueError):
        return default


def visible(st: EmulatorState, chan: Channel) -> bool:
    """Public channels are visible to every bot token; private ones and IMs only to members."""
    return not (chan.is_private or chan.is_im) or st.bot_user_id in chan.members


def conversation(st: EmulatorState, a: Args, key: str = "channel") -> Channel:
    """Resolve a conversation ID the bot can see, or raise channel_not_found (names are not accepted)."""
    chan = st.channels.get(str(a.get(key) or ""))
    if chan is None or not visible(st, chan):
        raise SlackError("channel_not_found")
    return chan


def member_of(st: EmulatorState, chan: Channel) -> Channel:
    """The bot must be in the conversation (reads, updates, pins, topics, invites): not_in_channel."""
    if st.bot_user_id not in chan.members:
        raise SlackError("not_in_channel")
    return chan


def joined(st: EmulatorState, a: Args, key: str = "channel") -> Channel:
    """A conversation the bot is in: channel_not_found when hidden, not_in_channel when public."""
    return member_of(st, conversation(st, a, key))


def not_archived(chan: Channel) -> Channel:
    """Archived conversations refuse writes with is_archived."""
    if chan.archived:
        raise SlackError("is_archived")
    return chan


def message(chan: Channel, ts: Any, error: str = "message_not_found") -> Message:
    """Find a message by ts or raise `error`."""
    msg = chan.find(str(ts or ""))
    if msg is None:
        raise SlackError(error)
    return msg


def postable(st: EmulatorState, a: Args) -> Channel:
    """Resolve a posting target: a conversation ID, a #name, or a user ID (the bot's DM with them).

    Only chat.postMessage/chat.postEphemeral accept names and user IDs. A DM needs the Messages tab; a
    public channel the bot is not in needs chat:write.public.
    """
    ref = str(a.get("channel") or "")
    if ref[:1] in ("U", "W") and ref in st.users:
        require_messages_tab(st)
        return st.open_im(ref)
    chan = st.channels.get(ref) or st.channel_by_name(ref)
    if chan is None or not visible(st, chan):
        raise SlackError("channel_not_found")
    if chan.is_im:
        require_messages_tab(st)
    not_archived(chan)
    if st.bot_user_id not in chan.members and not scopes.has(st, scopes.CHAT_WRITE_PUBLIC):
        raise SlackError("not_in_channel")
    return chan


def require_messages_tab(st: EmulatorState) -> None:
    """The app's DM is its App Home Messages tab: without it Slack refuses with messages_tab_disabled."""
    if not st.feature("app_home", "messages_tab_enabled"):
        raise SlackError("messages_tab_disabled")
