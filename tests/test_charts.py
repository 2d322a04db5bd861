"""Charts are checked by rendering them: PNG size, and the plot's own colours where the data says so."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import UTC, date, datetime
from typing import Any

import pytest

from bot.render import charts
from commands.insights import ActionItemCounts, Durations, Insights, Share, WeekRow

SEVERITIES = ["sev1", "sev2", "sev3"]


def _insights(weeks: list[WeekRow]) -> Insights:
    return Insights(
        since=datetime(2026, 3, 2, tzinfo=UTC),
        until=datetime(2026, 3, 23, tzinfo=UTC),
        generated_at=datetime(2026, 3, 23, tzinfo=UTC),
        incidents=sum(w.incidents for w in weeks),
        still_open=0,
        drills=0,
        duplicates=0,
        by_severity={},
        by_type={},
        by_service={},
        time_to_acknowledge=Durations(0, None, None, None),
        time_to_mitigate=Durations(0, None, None, None),
        time_to_resolve=Durations(3, 3600, 7200, 4000.0)
        if weeks and weeks[0].incidents
        else Durations(0, None, None, None),
        within_target={},
        escalated=Share(0, 0),
        update_adherence=Share(0, 0),
        reopened=Share(0, 0),
        action_items=ActionItemCounts(0, 0, 0),
        weekly=weeks,
    )


BUSY = _insights(
    [
        WeekRow(date(2026, 3, 2), 3, {"sev1": 1, "sev2": 2}, 3600, Share(2, 3)),
        WeekRow(date(2026, 3, 9), 1, {"sev3": 1}, None, Share(0, 0)),
        WeekRow(date(2026, 3, 16), 5, {"sev1": 3, "sev3": 2}, 7200, Share(5, 5)),
    ]
)
QUIET = _insights([WeekRow(date(2026, 3, d), 0, {}, None, Share(0, 0)) for d in (2, 9, 16)])


def _pixels(png: bytes) -> Any:
    """The PNG's RGB pixels (rows x columns x 3, 0-255), read back with matplotlib's own reader."""
    from matplotlib import image

    return (image.imread(io.BytesIO(png), format="png")[:, :, :3] * 255).round()


def _count(pixels: Any, colour: str) -> int:
    want = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return int((abs(pixels - want) <= 2).all(axis=-1).sum())


@pytest.mark.parametrize(
    ("draw", "colour"),
    [
        (lambda ins: charts.incidents_per_week_png(ins, SEVERITIES), charts.SEVERITY_COLOURS[0]),
        (charts.time_to_resolve_png, "#2e86c1"),
        (charts.within_target_png, "#27ae60"),
    ],
    ids=["incidents per week", "time to resolve", "within target"],
)
def test_each_chart_is_a_png_of_the_set_size_with_its_data_drawn(draw: object, colour: str) -> None:
    pixels = _pixels(draw(BUSY))  # type: ignore[operator]
    assert pixels.shape == (charts.CHART_HEIGHT, charts.WIDTH, 3)
    assert _count(pixels, colour) > 100, "the bars or line are drawn in the chart's colour"
    assert pixels.std() > 10, "not a blank image"


def test_bars_stack_every_severity_that_has_incidents_and_only_those() -> None:
    pixels = _pixels(charts.incidents_per_week_png(BUSY, SEVERITIES))
    for index in range(3):
        assert _count(pixels, charts.SEVERITY_COLOURS[index]) > 100, SEVERITIES[index]
    # The taller the stack, the more pixels: sev1 has 4 incidents, sev2 has 2.
    assert _count(pixels, charts.SEVERITY_COLOURS[0]) > _count(pixels, charts.SEVERITY_COLOURS[1])


def test_weeks_without_incidents_draw_no_bars() -> None:
    pixels = _pixels(charts.incidents_per_week_png(QUIET, SEVERITIES))
    assert pixels.shape == (charts.CHART_HEIGHT, charts.WIDTH, 3)
    assert all(_count(pixels, c) == 0 for c in charts.SEVERITY_COLOURS[:3])


def test_the_report_image_stacks_the_three_charts() -> None:
    pixels = _pixels(charts.report_png(BUSY, SEVERITIES))
    assert pixels.shape == (3 * charts.CHART_HEIGHT, charts.WIDTH, 3)
    third = charts.CHART_HEIGHT
    # Each chart's colour in its own third of the image, top to bottom.
    assert _count(pixels[:third], charts.SEVERITY_COLOURS[0]) > 100
    assert _count(pixels[third : 2 * third], "#2e86c1") > 100
    assert _count(pixels[2 * third :], "#27ae60") > 100


def test_matplotlib_is_not_loaded_until_a_chart_is_drawn() -> None:
    code = (
        "import sys, bot.ops.cli, bot.app, bot.render.charts, bot.ops.report; "
        "print('matplotlib' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
