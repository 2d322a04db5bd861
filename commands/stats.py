"""`/incident stats [7d|30d|90d]`: the headline figures across incidents at once, the charts after.

The figures are read in SQL within the acknowledgement's budget (past it the person is told it is taking
longer, and the answer follows). The charts are a durable share (commands/chart_shares.py) uploaded to
the channel it was asked in. Nothing here names an incident: private ones are only ever counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import cast

from commands.chart_shares import DIGEST_EVENT, STATS, ChartShare, NewShare, digest_payload, read_figures
from commands.errors import UsageError
from commands.feature import SLOW, Ask, Deps, Recorded
from commands.insights import Durations, Insights, Share, TargetSettings
from commands.mrkdwn import escape, mention
from commands.parsing import Stats
from commands.ports import Message
from commands.postmortem_owner import OverduePostmortem

TARGET_LABELS = {
    "acknowledge_within": "acknowledged",
    "mitigate_within": "mitigated",
    "resolve_within": "resolved",
}


class StatsFeature:
    """`/incident stats`, anywhere: the figures in the reply, the charts shared in the channel."""

    name = "stats"
    answers_in_ack = False  # like status and list: the answer follows the ack by response_url
    slow = SLOW

    def record(self, cmd: Stats, ask: Ask, deps: Deps) -> Recorded:
        if deps.reports is None or not ask.channel_id:
            raise UsageError("Incident stats are not available here.")
        now = deps.clock.now()
        share = NewShare(
            kind=STATS,
            channel_id=ask.channel_id,
            requested_by=ask.user_id,
            since=now - timedelta(days=cmd.days),
            until=now,
            asked_at=now,
        )
        settings = cast(TargetSettings, deps.settings)
        insights = read_figures(deps.reports, settings, share)
        deps.reports.shares.add(share)
        text = headline(insights, cmd.days, severities=settings.severity_names())
        return Recorded(answer=f"{text}\n_The charts follow in this channel._")


STATS_FEATURE = StatsFeature()


def _span(seconds: int | None) -> str:
    """A duration as people read it: 45s, 12m, 3h 5m, 2d 4h."""
    if seconds is None:
        return "–"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def _durations(label: str, d: Durations) -> str:
    if not d.count:
        return f"• {label}: none reached it"
    return f"• {label}: p50 {_span(d.p50_s)} · p90 {_span(d.p90_s)} (over {d.count})"


def _share(s: Share) -> str:
    if s.rate is None:
        return "nothing to measure"
    return f"{round(s.rate * 100)}% ({s.part} of {s.whole})"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def headline(ins: Insights, days: int, *, severities: list[str]) -> str:
    """The figures people look at first, as mrkdwn; counts only, never an incident's title."""
    ordered = [s for s in severities if s in ins.by_severity] + sorted(
        s for s in ins.by_severity if s not in severities
    )
    by_severity = " · ".join(f"{escape(s)} {ins.by_severity[s]}" for s in ordered) or "none"
    targets = " · ".join(
        f"{TARGET_LABELS.get(name, escape(name))} in time {_share(share)}"
        for name, share in ins.within_target.items()
        if share.whole
    )
    items = ins.action_items
    lines = [
        f"*Incidents, last {days} days*",
        f"• {_plural(ins.incidents, 'incident')} ({ins.still_open} still open) by severity: {by_severity}",
        f"• Not counted: {_plural(ins.drills, 'drill')}, {_plural(ins.duplicates, 'duplicate')}",
        _durations("Time to acknowledge", ins.time_to_acknowledge),
        _durations("Time to mitigate", ins.time_to_mitigate),
        _durations("Time to resolve", ins.time_to_resolve),
        f"• Within target: {targets or 'no targets were due'}",
        f"• Escalated: {_share(ins.escalated)} · Reopened: {_share(ins.reopened)}",
        f"• Updates on time: {_share(ins.update_adherence)}",
        f"• Action items: {items.open} open ({items.overdue} overdue), {items.done} done",
        "_Private incidents are counted, never named. Definitions: docs/metrics.md._",
    ]
    return "\n".join(lines)


def digest_message(
    ins: Insights, share: ChartShare, severities: list[str], overdue: Sequence[OverduePostmortem] = ()
) -> Message:
    """The weekly digest's post: the headline figures and the overdue postmortems, with metadata."""
    text = headline(ins, 7, severities=severities).replace(
        "*Incidents, last 7 days*", "*Weekly incident digest: the last 7 days*", 1
    )
    return Message(
        text=text + overdue_lines(overdue),
        event_type=DIGEST_EVENT,
        event_payload={**digest_payload(ins, share), "overdue_postmortems": len(overdue)},
    )


OVERDUE_SHOWN = 10


def overdue_lines(overdue: Sequence[OverduePostmortem]) -> str:
    """The postmortems still not published when due, oldest first; a private one only by its number."""
    if not overdue:
        return ""
    lines = ["", f"*Postmortems overdue* ({len(overdue)}): not published in time after the resolve"]
    for pm in overdue[:OVERDUE_SHOWN]:
        name = f"{pm.ref} (private)" if pm.private else f"{pm.ref} {escape(pm.title)}"
        owner = f"owner {mention(pm.owner)}" if pm.owner else "no owner"
        lines.append(f"• {name}: {pm.status}, {owner}")
    if len(overdue) > OVERDUE_SHOWN:
        lines.append(f"• …and {len(overdue) - OVERDUE_SHOWN} more")
    return "\n".join(lines)
