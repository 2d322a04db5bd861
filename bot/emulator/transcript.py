"""Human-readable rendering of channels, so demos and failing tests show what Slack users would see."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

from .state import Channel, EmulatorState, Message

MENTION_RE = re.compile(r"<([@#!])([^>|]+)(?:\|([^>]*))?>|<(https?://[^>|]+)(?:\|([^>]*))?>")
INDENT = "    "
RICH_TEXT_LINES = frozenset({"rich_text_section", "rich_text_list", "rich_text_preformatted"})


def _render_mrkdwn(st: EmulatorState, text: str) -> str:
    """Replace Slack's escaped mention syntax with readable @user / #channel / label forms."""

    def sub(m: re.Match[str]) -> str:
        sigil, ref, label, url, url_label = m.groups()
        if url is not None:
            return f"{url_label} ({url})" if url_label else url
        if sigil == "@":
            user = st.users.get(ref)
            return f"@{label or (user.name if user else ref)}"
        if sigil == "#":
            chan = st.channels.get(ref)
            return f"#{label or (chan.name if chan else ref)}"
        if ref.startswith("subteam^"):
            group = st.usergroups.get(ref.split("^", 1)[1])
            return label or (f"@{group[0]}" if group else "@group")
        if ref.startswith("date^"):
            return label or ref
        return f"@{ref}"

    return html.unescape(MENTION_RE.sub(sub, text))


def _text_of(obj: Any) -> str:
    """Text of a text object (or an empty string)."""
    return str(obj.get("text", "")) if isinstance(obj, dict) else str(obj or "")


def _element(el: dict[str, Any]) -> str:
    """One interactive/context element as a short label."""
    etype = el.get("type")
    if etype == "button":
        return f"[{_text_of(el.get('text'))}]"
    if etype in ("plain_text", "mrkdwn"):
        return _text_of(el)
    if etype == "image":
        return f"[image: {el.get('alt_text', '')}]"
    placeholder = _text_of(el.get("placeholder"))
    return f"[{etype}{': ' + placeholder if placeholder else ''}]"


def _rich_text(st: EmulatorState, node: Any) -> str:
    """Flatten a rich_text tree into plain text with readable mentions."""
    if isinstance(node, list):
        return "".join(_rich_text(st, n) for n in node)
    if not isinstance(node, dict):
        return ""
    ntype = node.get("type")
    if ntype == "text":
        return str(node.get("text", ""))
    if ntype == "user":
        return _render_mrkdwn(st, f"<@{node.get('user_id')}>")
    if ntype == "channel":
        return _render_mrkdwn(st, f"<#{node.get('channel_id')}>")
    if ntype == "link":
        return str(node.get("text") or node.get("url", ""))
    if ntype == "emoji":
        return f":{node.get('name')}:"
    inner = _rich_text(st, node.get("elements", []))
    return inner + "\n" if ntype in RICH_TEXT_LINES else inner


def summarize_blocks(st: EmulatorState, blocks: list[Any]) -> str:
    """Summarize Block Kit content to the text a reader would notice."""
    lines: list[str] = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        btype = block.get("type")
        if btype == "header":
            lines.append(f"# {_text_of(block.get('text'))}")
        elif btype == "section":
            parts = [_render_mrkdwn(st, _text_of(block.get("text")))] if block.get("text") else []
            parts += [_render_mrkdwn(st, _text_of(f)) for f in block.get("fields") or []]
            if isinstance(block.get("accessory"), dict):
                parts.append(_element(block["accessory"]))
            lines.append(" | ".join(p for p in parts if p))
        elif btype in ("context", "actions"):
            els = [e for e in block.get("elements") or [] if isinstance(e, dict)]
            lines.append(" ".join(_render_mrkdwn(st, _element(e)) for e in els))
        elif btype == "divider":
            lines.append("---")
        elif btype == "image":
            lines.append(f"[image: {block.get('alt_text', '')}]")
        elif btype == "input":
            lines.append(f"{_text_of(block.get('label'))}: {_element(block.get('element') or {})}")
        elif btype == "rich_text":
            lines.append(_rich_text(st, block.get("elements", [])).rstrip("\n"))
        elif btype == "markdown":
            lines.append(str(block.get("text", "")))
        else:
            lines.append(f"[{btype}]")
    return "\n".join(lines)


def _clock(ts: str) -> str:
    """HH:MM:SS (UTC) of a message ts."""
    return datetime.fromtimestamp(float(ts), tz=UTC).strftime("%H:%M:%S")


def _render_message(st: EmulatorState, chan: Channel, msg: Message, prefix: str) -> list[str]:
    """One message as transcript lines (continuations and attachments indented)."""
    user = st.users.get(msg.user)
    who = f"@{user.name if user else msg.user}"
    if msg.ephemeral_to:
        target = st.users.get(msg.ephemeral_to)
        who += f" (only visible to @{target.name if target else msg.ephemeral_to})"
    body = summarize_blocks(st, msg.blocks) if msg.blocks else _render_mrkdwn(st, msg.text)
    marks = (" (pinned)" if msg.ts in chan.pins else "") + (" (edited)" if msg.edited else "")
    first, *rest = (body or "").split("\n")
    lines = [f"{prefix}[{_clock(msg.ts)}] {who}: {first}{marks}"]
    lines += [f"{prefix}{INDENT}{line}".rstrip() for line in rest]
    for f in msg.files:
        title = f.get("title") or f.get("name")
        lines.append(f'{prefix}{INDENT}[file: {f.get("name")} "{title}" {f.get("size", 0)} bytes]')
    reactions = " ".join(f":{name}: {len(users)}" for name, users in msg.reactions.items() if users)
    if reactions:
        lines.append(f"{prefix}{INDENT}reactions: {reactions}")
    return lines


def render_channel(st: EmulatorState, chan: Channel) -> list[str]:
    """A channel header line followed by its messages, thread replies nested under their parents."""
    flags = [
        f for f, on in (("private", chan.is_private and not chan.is_im), ("archived", chan.archived)) if on
    ]
    title = f"#{chan.name}" if not chan.is_im else f"DM {chan.id} ({', '.join(sorted(chan.members))})"
    lines = [title + (f" ({', '.join(flags)})" if flags else "")]
    if chan.topic:
        lines.append(f"{INDENT}topic: {_render_mrkdwn(st, chan.topic)}")
    timeline = sorted([*chan.messages, *chan.ephemerals], key=lambda m: float(m.ts))
    for msg in timeline:
        if msg.thread_ts and msg.thread_ts != msg.ts and chan.find(msg.thread_ts) is not None:
            continue
        lines += _render_message(st, chan, msg, "")
        replies = [m for m in timeline if m.thread_ts == msg.ts and m is not msg]
        for reply in replies:
            lines += _render_message(st, chan, reply, f"{INDENT}> ")
    if len(timeline) == 0:
        lines.append(f"{INDENT}(no messages)")
    return lines


def render_transcript(st: EmulatorState, channel_ids: list[str] | None = None) -> str:
    """Render the given channels (default: every channel with messages) as plain text."""
    with st.lock:
        if channel_ids is None:
            chans = [c for c in st.channels.values() if c.messages or c.ephemerals]
        else:
            chans = [st.channels[cid] for cid in channel_ids]
        blocks = ["\n".join(render_channel(st, chan)) for chan in chans]
    return "\n\n".join(blocks) + ("\n" if blocks else "")
