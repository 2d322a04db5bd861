"""How long a postmortem draft takes to render, against simply joining the same timeline rows into a string.

`python -m benchmarks.postmortem_render [SIZE ...]` prints one line per size; the target is a ratio of at
most 10 at every size. Rendering runs the shipped template with every escaping filter. The suite
(`python -m benchmarks`) reports it through `section`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks.report import Finding, Section, table, verdict
from bot.render.postmortem import PostmortemRenderer
from commands.postmortem import PostmortemData, assemble
from store.models import ActionItem, Incident, RoleAssignment, TimelineEvent

TARGET_RATIO = 10.0
DEFAULT_SIZES = (1_000, 10_000, 50_000)
START = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)
_KINDS = ("note", "update_posted", "pinned", "role_assigned", "status_changed", "escalated")


def _event(i: int) -> TimelineEvent:
    """A realistic mix of kinds, with text that needs escaping now and then."""
    kind = _KINDS[i % len(_KINDS)]
    data: dict[str, Any] = {}
    if kind == "update_posted":
        data = {"status": "identified", "severity": "sev2"}
    elif kind == "role_assigned":
        data = {"role": "scribe", "user": f"U{i % 7}", "previous": None}
    elif kind == "status_changed":
        data = {"from": "investigating", "to": "identified"}
    elif kind == "escalated":
        data = {"from": "sev2", "to": "sev2", "users": ["U4"], "groups": [], "paged": ["U4"]}
    elif kind == "pinned":
        data = {"pinned_by": "U1"}
    text = f"Step {i}: checked the *cart* service <@U{i % 5}>, p99 at {i % 900} ms" + (
        "\n- next" if i % 9 == 0 else ""
    )
    return TimelineEvent(
        id=i + 1,
        incident_id=1,
        kind=kind,
        actor=f"U{i % 5}",
        text=text,
        occurred_at=START + timedelta(seconds=i),
        permalink=f"https://example.slack.com/archives/C1/p{1772370000000000 + i}"
        if kind == "pinned"
        else None,
        data=data,
    )


def incident_with(events: int) -> tuple[PostmortemData, list[TimelineEvent]]:
    """A resolved incident whose timeline holds `events` events, as the renderer receives it."""
    incident = Incident(
        id=1,
        title="Checkout is timing out",
        description="",
        severity="sev2",
        status="resolved",
        private=False,
        declared_by="U1",
        declared_at=START,
        channel_id="C1",
        channel_name="inc-1-checkout-is-timing-out",
        resolved_at=START + timedelta(seconds=events + 1),
        resolved_by="U1",
        acknowledged_at=START,
    )
    incident.roles = [
        RoleAssignment(
            id=1, role="commander", user_id="U1", assigned_by="U1", assigned_at=START, ended_at=None
        )
    ]
    rows = [_event(i) for i in range(events)]
    items = [ActionItem(id=1, text="Alert on pool size", owner="U4", created_by="U1", created_at=START)]
    return assemble(incident, rows, items, lambda _severity: timedelta(minutes=30)), rows


def join_rows(rows: Sequence[TimelineEvent]) -> str:
    """The floor: the same rows joined into one string with no escaping, no template and no time zone."""
    return "\n".join(
        f"{e.occurred_at.isoformat()} | {e.actor} | {e.kind} | {e.text} | {e.permalink or ''}" for e in rows
    )


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def measure(sizes: Sequence[int] = DEFAULT_SIZES, repeats: int = 7) -> list[dict[str, Any]]:
    """Per size: seconds to render the draft and to join the rows, their ratio, and whether it meets 10x.

    Each repeat times both back to back and the fastest of each counts, so a busy machine slows both alike.
    """
    renderer = PostmortemRenderer(zone=ZoneInfo("Europe/Berlin"))
    results = []
    for size in sizes:
        pm, rows = incident_with(size)
        renderer.render(pm)  # compile the template outside the timing
        render_s = join_s = float("inf")
        for _ in range(repeats):
            join_s = min(join_s, _timed(lambda rows=rows: join_rows(rows)))  # type: ignore[misc]
            render_s = min(render_s, _timed(lambda pm=pm: renderer.render(pm)))  # type: ignore[misc]
        ratio = render_s / join_s if join_s > 0 else float("inf")
        results.append(
            {
                "events": size,
                "render_seconds": render_s,
                "join_seconds": join_s,
                "ratio": ratio,
                "target_ratio": TARGET_RATIO,
                "met": ratio <= TARGET_RATIO,
            }
        )
    return results


def section(sizes: Sequence[int] = DEFAULT_SIZES, repeats: int = 7) -> Section:
    """The report's part: render and join times per size, and the worst ratio judged against 10×."""
    results = measure(sizes, repeats)
    rows = [
        [
            f"{r['events']:,}",
            f"{r['render_seconds'] * 1000:.1f} ms",
            f"{r['join_seconds'] * 1000:.1f} ms",
            f"{r['ratio']:.1f}",
            f"{r['render_seconds'] / r['events'] * 1e6:.1f} µs",
        ]
        for r in results
    ]
    worst = max(results, key=lambda r: r["ratio"])
    ok = all(r["met"] for r in results)
    finding = Finding(
        "postmortem render",
        f"≤ {TARGET_RATIO:g}× joining the rows, {', '.join(f'{n:,}' for n in sizes)} events",
        f"worst {worst['ratio']:.1f}× at {worst['events']:,} events "
        f"({worst['render_seconds'] * 1000:.0f} ms)",
        verdict(ok),
        ""
        if ok
        else "the template does per-event work beyond the join: escaping filters, time-zone conversion "
        "and per-kind branches run for every event.",
        ""
        if ok
        else "precompute the per-event strings once in `assemble` (the zone conversion and escaping) and "
        "let the template join them, or render the timeline section in Python.",
    )
    method = (
        "A resolved incident whose timeline holds N events (a mix of notes, updates, pins, role changes, "
        "status changes and escalations, some text needing escaping) is assembled as the postmortem job "
        "does (`commands.postmortem.assemble`), then rendered with the shipped template and every escaping "
        "filter (`bot.render.postmortem.PostmortemRenderer`, zone Europe/Berlin). The floor is the same rows "
        "joined into one string with no template, escaping or time zone. Both are timed back to back "
        f"{repeats} times per size and the fastest of each counts, so a busy machine slows both alike; the "
        "template is compiled before timing. Loading the rows from the database is not included."
    )
    return Section(
        "Postmortem render",
        method,
        tables=[table(["events", "render", "join the rows", "ratio", "render per event"], rows)],
        findings=[finding],
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("sizes", nargs="*", type=int, default=list(DEFAULT_SIZES), metavar="SIZE")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    for row in measure(args.sizes, args.repeats):
        print(
            f"{row['events']:>7} events: render {row['render_seconds'] * 1000:8.1f} ms, "
            f"join {row['join_seconds'] * 1000:7.1f} ms, ratio {row['ratio']:5.1f} "
            f"(target ≤ {TARGET_RATIO:g}: {'met' if row['met'] else 'NOT met'})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
