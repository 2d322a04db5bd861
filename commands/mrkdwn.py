"""Escaping for Slack mrkdwn: user text is shown as typed and can never ping or link anyone."""

from __future__ import annotations

import re

from commands.declarer import source_name

# Slack's own rule: only &, < and > are control characters in message text.
_CONTROL = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# A bare @channel is not a mention in API posts, but some clients and parse modes link it; a word
# joiner after the @ keeps it readable and inert everywhere.
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_WORD_JOINER = "\u2060"


class Mrkdwn(str):
    """Markup the bot wrote itself (mentions, links), passed through templates unescaped."""


def escape(text: object) -> str:
    """Escape any value for mrkdwn unless it is already trusted Mrkdwn."""
    if isinstance(text, Mrkdwn):
        return text
    value = str(text).translate(_CONTROL)
    return _BROADCAST.sub(lambda m: "@" + _WORD_JOINER + m.group(1), value)


def mention(user_id: str | None) -> Mrkdwn:
    """Link a user the bot has a real id for; ids come from Slack, never from free text."""
    if not user_id:
        return Mrkdwn("nobody")
    source = source_name(user_id)
    if source is not None:  # an alerting system declared it: a name, never a ping
        return Mrkdwn(escape(source))
    return Mrkdwn(f"<@{escape(user_id)}>")


def channel_link(channel_id: str | None, name: str | None = None) -> Mrkdwn:
    """Link a channel by id so the link survives renames."""
    if not channel_id:
        return Mrkdwn(escape(f"#{name}") if name else "(room not ready yet)")
    return Mrkdwn(f"<#{escape(channel_id)}>")


def group_mention(group_id: str) -> Mrkdwn:
    """Ping a user group named explicitly to `escalate` (the only way a group is ever pinged)."""
    return Mrkdwn(f"<!subteam^{escape(group_id)}>")
