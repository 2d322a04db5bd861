"""The charts of a share (commands/chart_shares.py) by name, drawn by bot/render/charts.py."""

from __future__ import annotations

from bot.render.charts import incidents_per_week_png, time_to_resolve_png, within_target_png
from commands.chart_shares import CHARTS
from commands.insights import Insights


class MatplotlibCharts:
    """Draws each chart `/incident stats` and the digest share, with severities in the configured order."""

    def __init__(self, severities: list[str]) -> None:
        self.severities = severities

    def render(self, chart: str, insights: Insights) -> bytes:
        """PNG bytes of one chart; raises KeyError for a chart it does not know."""
        if chart not in CHARTS:
            raise KeyError(chart)
        if chart == "incidents-per-week":
            return incidents_per_week_png(insights, self.severities)
        if chart == "time-to-resolve":
            return time_to_resolve_png(insights)
        return within_target_png(insights)
