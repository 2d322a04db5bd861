"""The Home tab as Block Kit, within Slack's limits for a home view (100 blocks, section text 3,000,
header 150, button text 75): long lists end with "and N more" instead of failing to publish."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from bot.slack.ids import ActionId
from commands.action import describe
from commands.home import HomeData, OwnedItem
from commands.insights import Durations, Insights, Share
from commands.mrkdwn import channel_link, escape
from commands.records import Incident

MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
# Each list gets a share of the 100 blocks, so the figures always fit after them.
MAX_INCIDENTS = 30
MAX_ITEMS = 30
MAX_ROLE_LINES = 40
TITLE_CHARS = 200


def home_view(data: HomeData, zone: tzinfo, notice: str | None = None) -> dict[str, Any]:
    """The person's Home tab: a notice (what their click did), incidents, roles, action items, figures."""
    blocks: list[dict[str, Any]] = []
    if notice:
        blocks.append(_context(notice))
    blocks += _incidents(data)
    blocks += _roles(data)
    blocks += _items(data, zone)
    blocks += _figures(data.figures)
    assert len(blocks) <= MAX_VIEW_BLOCKS  # the MAX_* shares above keep it so
    return {"type": "home", "blocks": blocks}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:MAX_HEADER_TEXT]}}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text)}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text)}]}


def _clip(text: str, limit: int = MAX_SECTION_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _more(count: int, shown: int, what: str) -> list[dict[str, Any]]:
    return [_context(f"…and {count - shown} more {what}.")] if count > shown else []


def _incident_line(incident: Incident) -> str:
    title = escape(_clip(incident.title, TITLE_CHARS))
    lock = ":lock: " if incident.private else ""
    room = channel_link(incident.channel_id, incident.channel_name)
    facts = f"{escape(incident.severity.upper())} · {escape(incident.status)} · {room}"
    return f"{lock}*{incident.ref}* · {facts}\n{title}"


def _incidents(data: HomeData) -> list[dict[str, Any]]:
    out = [_header(f"Open incidents ({len(data.incidents)})")]
    if not data.incidents:
        return [*out, _section("No open incidents. :tada:")]
    shown = data.incidents[:MAX_INCIDENTS]
    out += [_section(_incident_line(i)) for i in shown]
    return out + _more(len(data.incidents), len(shown), "open incidents")


def _roles(data: HomeData) -> list[dict[str, Any]]:
    out = [_header("Your roles")]
    if not data.roles:
        return [*out, _section("You hold no role in an open incident.")]
    lines = [
        f"*{i.ref}* ({channel_link(i.channel_id, i.channel_name)}): {escape(', '.join(held))}"
        for i, held in data.roles[:MAX_ROLE_LINES]
    ]
    text, kept = _fit(lines)
    return [*out, _section(text), *_more(len(data.roles), kept, "roles")]


def _fit(lines: list[str]) -> tuple[str, int]:
    """As many whole lines as one section holds (leaving room for nothing else), and how many."""
    text, kept = "", 0
    for line in lines:
        candidate = f"{text}\n{line}" if text else line
        if len(candidate) > MAX_SECTION_TEXT:
            break
        text, kept = candidate, kept + 1
    return text, kept


def _item_block(owned: OwnedItem, details: str) -> dict[str, Any]:
    item = owned.item
    flag = ":rotating_light: " if owned.overdue else ""
    text = f"{flag}*{owned.incident_ref}*: {escape(_clip(item.text, 1500))}\n{details}"
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": _clip(text)},
        "accessory": {
            "type": "button",
            "text": {"type": "plain_text", "text": "Done"},
            "action_id": ActionId.HOME_ACTION_DONE.value,
            "value": str(item.id),
        },
    }


def _items(data: HomeData, zone: tzinfo) -> list[dict[str, Any]]:
    overdue = sum(1 for o in data.items if o.overdue)
    out = [_header(f"Your action items ({len(data.items)} open, {overdue} overdue)")]
    if not data.items:
        return [*out, _section("You have no open action items.")]
    shown = data.items[:MAX_ITEMS]
    out += [_item_block(o, describe(o.item, zone, data.now)) for o in shown]
    return out + _more(len(data.items), len(shown), "action items")


def _hours(d: Durations) -> str:
    if d.p50_s is None:
        return "—"
    return f"{d.p50_s / 3600:.1f} h" if d.p50_s >= 3600 else f"{d.p50_s // 60} min"


def _rate(share: Share) -> str:
    rate = share.rate
    return "—" if rate is None else f"{rate * 100:.0f}% ({share.part}/{share.whole})"


def _figures(figures: Insights | None) -> list[dict[str, Any]]:
    out = [_header("Last 30 days")]
    if figures is None:
        return [
            *out,
            _section("The figures could not be read just now; they will be back on the next refresh."),
        ]
    targets = ", ".join(
        f"{name.removesuffix('_within')} {_rate(s)}" for name, s in figures.within_target.items()
    )
    fields = [
        f"*Incidents*\n{figures.incidents} ({figures.still_open} still open)",
        f"*Time to resolve (median)*\n{_hours(figures.time_to_resolve)}",
        f"*Time to acknowledge (median)*\n{_hours(figures.time_to_acknowledge)}",
        f"*Within target*\n{targets or '—'}",
        f"*Escalated*\n{_rate(figures.escalated)}",
        f"*Action items*\n{figures.action_items.open} open, {figures.action_items.overdue} overdue, "
        f"{figures.action_items.done} done",
    ]
    return [*out, {"type": "section", "fields": [{"type": "mrkdwn", "text": f[:2000]} for f in fields]}]
