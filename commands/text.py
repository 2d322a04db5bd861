"""Plain-text handling of what people type: Slack's escaped markup in, clean text and channel slugs out."""

from __future__ import annotations

import re
import unicodedata

# Slack sends slash-command text with should_escape on: mentions arrive as <@U1|name>, <!channel>,
# <#C1|name>, <!subteam^S1|@group>, links as <url|label>, and & < > as entities.
_SLACK_MARKUP = re.compile(r"<([^<>]*)>")

MAX_CHANNEL_NAME = 80


def _plain_markup(inner: str) -> str:
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return "@" + (label or target[1:])
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!subteam^"):
        return label if label.startswith("@") else "@" + (label or target[len("!subteam^") :])
    if target.startswith("!"):
        return "@" + (label or target[1:].split("^")[0])
    return f"{label} ({target})" if label and label != target else target


def plain_text(slack_text: str) -> str:
    """Turn Slack-escaped command text into what the person meant, so it can be stored and re-escaped."""
    text = _SLACK_MARKUP.sub(lambda m: _plain_markup(m.group(1)), slack_text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


def slugify(title: str) -> str:
    """Reduce a title to the lowercase letters, digits and hyphens Slack allows in channel names."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug or "incident"


def channel_name(prefix: str, number: int, title: str, attempt: int = 0) -> str:
    """Name the war room `<prefix>-<n>-<slug>`, with `-<k>` from the second attempt, within 80 characters."""
    suffix = f"-{attempt + 1}" if attempt else ""
    head = f"{prefix}-{number}"
    room = MAX_CHANNEL_NAME - len(head) - 1 - len(suffix)
    slug = slugify(title)[:room].rstrip("-") if room > 0 else ""
    return f"{head}-{slug}{suffix}" if slug else f"{head}{suffix}"
