"""Charts of a report as PNG bytes: incidents per week by severity, time to resolve, share within target.

matplotlib is imported inside each call (it takes a noticeable time to load, and the bot's start-up and
most commands never draw), with the Agg backend: no display, safe in worker threads of a server.
Each chart is its own function so `/incident stats` can upload them one by one; `report_png` stacks all
three for `incidentbot report --format png`.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from commands.insights import Insights

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Pixels: WIDTH x CHART_HEIGHT per chart at DPI.
DPI = 100
WIDTH = 900
CHART_HEIGHT = 360
# One colour per severity, most severe first; beyond these the palette repeats.
SEVERITY_COLOURS = ("#c0392b", "#e67e22", "#f1c40f", "#2e86c1", "#7f8c8d", "#8e44ad")


def _figure(charts: int) -> tuple[Figure, list[Axes]]:
    """A figure of `charts` stacked plots, built without pyplot so nothing global is touched."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH / DPI, CHART_HEIGHT * charts / DPI), dpi=DPI)
    axes = fig.subplots(charts, 1, squeeze=False)
    return fig, [row[0] for row in axes]


def _png(fig: Figure) -> bytes:
    # Agg is chosen explicitly: savefig on a Figure never consults (or opens) a display.
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _weeks(ins: Insights) -> list[str]:
    return [week.week_start.strftime("%d %b") for week in ins.weekly]


def _draw_incidents(ax: Axes, ins: Insights, severities: list[str]) -> None:
    """Stacked bars: each week's incidents, one colour per severity (configured order, then any other)."""
    labels = _weeks(ins)
    seen = [s for w in ins.weekly for s in w.by_severity if s not in severities]
    bottom = [0] * len(labels)
    for index, severity in enumerate([*severities, *dict.fromkeys(seen)]):
        counts = [week.by_severity.get(severity, 0) for week in ins.weekly]
        if not any(counts):
            continue
        colour = SEVERITY_COLOURS[index % len(SEVERITY_COLOURS)]
        ax.bar(labels, counts, bottom=bottom, label=severity, color=colour)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    ax.set_title("Incidents per week, by severity")
    ax.set_ylabel("incidents")
    ax.set_ylim(0, max([*bottom, 1]) * 1.15)
    if any(bottom):
        ax.legend(loc="upper left", fontsize="small")


def _draw_resolve(ax: Axes, ins: Insights) -> None:
    """Median time to resolve per week, in hours; a week without resolved incidents leaves a gap."""
    labels = _weeks(ins)
    p50s = [w.time_to_resolve_p50_s for w in ins.weekly]
    hours = [float("nan") if s is None else s / 3600 for s in p50s]
    ax.plot(labels, hours, marker="o", color="#2e86c1", label="median (p50)")
    overall = ins.time_to_resolve.p90_s
    if overall is not None:
        ax.axhline(overall / 3600, color="#c0392b", linestyle="--", label="p90 over the period")
    ax.set_title("Time to resolve")
    ax.set_ylabel("hours")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize="small")


def _draw_targets(ax: Axes, ins: Insights) -> None:
    """Share of target checks met per week (all targets together), as a percentage."""
    labels = _weeks(ins)
    rates = [w.within_target.rate for w in ins.weekly]
    shares = [float("nan") if r is None else r * 100 for r in rates]
    ax.plot(labels, shares, marker="o", color="#27ae60")
    ax.set_title("Share within target")
    ax.set_ylabel("% of targets met")
    ax.set_ylim(0, 105)


def _one(draw: Callable[[Axes], Any]) -> bytes:
    fig, [ax] = _figure(1)
    draw(ax)
    ax.tick_params(axis="x", labelrotation=45, labelsize="small")
    return _png(fig)


def incidents_per_week_png(ins: Insights, severities: list[str]) -> bytes:
    """Incidents per week stacked by severity (`severities` in the configured order, most severe first)."""
    return _one(lambda ax: _draw_incidents(ax, ins, severities))


def time_to_resolve_png(ins: Insights) -> bytes:
    return _one(lambda ax: _draw_resolve(ax, ins))


def within_target_png(ins: Insights) -> bytes:
    return _one(lambda ax: _draw_targets(ax, ins))


def report_png(ins: Insights, severities: list[str]) -> bytes:
    """All three charts, stacked in one image."""
    fig, axes = _figure(3)
    _draw_incidents(axes[0], ins, severities)
    _draw_resolve(axes[1], ins)
    _draw_targets(axes[2], ins)
    for ax in axes:
        ax.tick_params(axis="x", labelrotation=45, labelsize="small")
    return _png(fig)
