"""The insights report as JSON, Markdown and CSV: one shape (commands.insights.Insights), three readers."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.ops.config import format_duration
from commands.insights import Durations, Insights, Share

_TARGET_TITLES = {
    "acknowledge_within": "Acknowledged within target",
    "mitigate_within": "Mitigated within target",
    "resolve_within": "Resolved within target",
}


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _durations(d: Durations) -> dict[str, Any]:
    return {"count": d.count, "p50": d.p50_s, "p90": d.p90_s, "mean": d.mean_s}


def report_record(ins: Insights, zone: ZoneInfo) -> dict[str, Any]:
    """Every figure, named as docs/metrics.md names it; rates are fractions (None: nothing to count)."""
    return {
        "period": {"since": _utc(ins.since), "until": _utc(ins.until), "timezone": zone.key},
        "generated_at": _utc(ins.generated_at),
        "incidents": ins.incidents,
        "still_open": ins.still_open,
        "drills": ins.drills,
        "duplicates": ins.duplicates,
        "by_severity": ins.by_severity,
        "by_type": ins.by_type,
        "by_service": ins.by_service,
        "time_to_acknowledge_s": _durations(ins.time_to_acknowledge),
        "time_to_mitigate_s": _durations(ins.time_to_mitigate),
        "time_to_resolve_s": _durations(ins.time_to_resolve),
        "within_target": {name: share.rate for name, share in ins.within_target.items()},
        "within_target_counts": {
            name: {"met": share.part, "eligible": share.whole} for name, share in ins.within_target.items()
        },
        "escalation_rate": ins.escalated.rate,
        "escalated": ins.escalated.part,
        "update_adherence": ins.update_adherence.rate,
        "updates_on_time": ins.update_adherence.part,
        "updates_due": ins.update_adherence.whole,
        "reopen_rate": ins.reopened.rate,
        "reopened": ins.reopened.part,
        "action_items": {
            "open": ins.action_items.open,
            "done": ins.action_items.done,
            "overdue": ins.action_items.overdue,
        },
        "weekly": [
            {
                "week_start": week.week_start.isoformat(),
                "incidents": week.incidents,
                "by_severity": week.by_severity,
                "time_to_resolve_p50_s": week.time_to_resolve_p50_s,
                "within_target": week.within_target.rate,
                "within_target_met": week.within_target.part,
                "within_target_eligible": week.within_target.whole,
            }
            for week in ins.weekly
        ],
    }


def report_json(ins: Insights, zone: ZoneInfo) -> str:
    return json.dumps(report_record(ins, zone), indent=2, ensure_ascii=False) + "\n"


def _percent(share: Share) -> str:
    return "–" if share.rate is None else f"{share.rate:.0%} ({share.part} of {share.whole})"


def _took(seconds: float | None) -> str:
    return "–" if seconds is None else format_duration(timedelta(seconds=seconds), approximate=True)


def _cell(text: str) -> str:
    """A table cell: names come from config and Slack, so a pipe must not split the row."""
    return text.replace("|", "\\|").replace("\n", " ")


def report_markdown(ins: Insights, zone: ZoneInfo) -> str:
    """A readable report: the headline figures, durations, targets, breakdowns and the weeks."""
    since, until = ins.since.astimezone(zone), ins.until.astimezone(zone)
    lines = [
        f"# Incident report: {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} ({zone.key})",
        "",
        f"- Incidents: **{ins.incidents}** ({ins.still_open} still open); "
        f"left out: {ins.drills} drill(s), {ins.duplicates} duplicate(s)",
        f"- Escalated: {_percent(ins.escalated)}",
        f"- Reopened: {_percent(ins.reopened)}",
        f"- Updates on time: {_percent(ins.update_adherence)} of the updates due",
        f"- Action items: {ins.action_items.open} open ({ins.action_items.overdue} overdue), "
        f"{ins.action_items.done} done",
        "",
        "## Time to each milestone",
        "",
        "| milestone | incidents | p50 | p90 | mean |",
        "|---|---|---|---|---|",
    ]
    for name, d in (
        ("acknowledge", ins.time_to_acknowledge),
        ("mitigate", ins.time_to_mitigate),
        ("resolve", ins.time_to_resolve),
    ):
        lines.append(f"| {name} | {d.count} | {_took(d.p50_s)} | {_took(d.p90_s)} | {_took(d.mean_s)} |")
    lines += ["", "## Targets", "", "| target | met |", "|---|---|"]
    for name, share in ins.within_target.items():
        lines.append(f"| {_TARGET_TITLES.get(name, name)} | {_percent(share)} |")
    for title, counts in (
        ("By severity", ins.by_severity),
        ("By type", ins.by_type),
        ("By service", ins.by_service),
    ):
        lines += ["", f"## {title}", "", "| | incidents |", "|---|---|"]
        lines += [f"| {_cell(key)} | {count} |" for key, count in counts.items()] or ["| – | 0 |"]
    lines += [
        "",
        "## Weeks",
        "",
        "| week of | incidents | by severity | p50 to resolve | within target |",
        "|---|---|---|---|---|",
    ]
    for week in ins.weekly:
        severities = ", ".join(f"{_cell(k)} {n}" for k, n in week.by_severity.items()) or "–"
        lines.append(
            f"| {week.week_start.isoformat()} | {week.incidents} | {severities} | "
            f"{_took(week.time_to_resolve_p50_s)} | {_percent(week.within_target)} |"
        )
    lines += ["", f"Generated {ins.generated_at.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})."]
    return "\n".join(lines) + "\n"


def weekly_csv(ins: Insights, severities: list[str]) -> str:
    """One row per week: counts per configured severity (and any other seen), p50 and the target share."""
    seen = [s for w in ins.weekly for s in w.by_severity if s not in severities]
    columns = [*severities, *dict.fromkeys(seen)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "week_start",
            "incidents",
            *(f"severity_{name}" for name in columns),
            "time_to_resolve_p50_s",
            "within_target_met",
            "within_target_eligible",
            "within_target_rate",
        ]
    )
    for week in ins.weekly:
        share = week.within_target
        writer.writerow(
            [
                week.week_start.isoformat(),
                week.incidents,
                *(week.by_severity.get(name, 0) for name in columns),
                "" if week.time_to_resolve_p50_s is None else week.time_to_resolve_p50_s,
                share.part,
                share.whole,
                "" if share.rate is None else share.rate,
            ]
        )
    return out.getvalue()
