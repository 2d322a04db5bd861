"""`incidentbot report`: figures across the incidents of a period, as Markdown, JSON, CSV or PNG charts."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from bot.ops.config import IncidentConfig, parse_duration
from bot.ops.export import write_private
from bot.ops.migrate import schema_problem
from bot.ops.settings import Settings
from commands.insights import Insights, build_query

DEFAULT_SINCE = timedelta(days=30)


def since_value(text: str) -> timedelta | date:
    """argparse type for --since: a span back from --until ('30d', '12h') or a date (YYYY-MM-DD)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return parse_duration(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a span back from --until (like 30d or 12h) nor a date (like 2026-03-01)"
        ) from None


def period(
    since: timedelta | date | None, until: date | None, config: IncidentConfig, now: datetime
) -> tuple[datetime, datetime]:
    """[since, until): a date is its midnight in the configured zone; defaults: now, and 30 days back."""
    end = now if until is None else datetime.combine(until, time(), tzinfo=config.zone)
    if isinstance(since, date):
        start = datetime.combine(since, time(), tzinfo=config.zone)
    else:
        start = end - (DEFAULT_SINCE if since is None else since)
    return start, end


def render(ins: Insights, fmt: str, config: IncidentConfig) -> bytes:
    """The report's bytes in one format."""
    from bot.render import report

    if fmt == "png":
        from bot.render.charts import report_png

        return report_png(ins, config.severity_names())
    if fmt == "json":
        return report.report_json(ins, config.zone).encode("utf-8")
    if fmt == "csv":
        return report.weekly_csv(ins, config.severity_names()).encode("utf-8")
    return report.report_markdown(ins, config.zone).encode("utf-8")


def run_report(args: argparse.Namespace, settings: Settings, config: IncidentConfig) -> int:
    """Compute the period's figures and write them to stdout or -o FILE; 2 for a bad period or database."""
    from sqlalchemy.exc import SQLAlchemyError

    from store.db import make_engine, make_session_factory
    from store.insights import SqlInsights

    now = datetime.now(UTC)
    start, end = period(args.since, args.until, config, now)
    try:
        query = build_query(since=start, until=end, now=now, settings=config)
    except ValueError as exc:
        print(f"incidentbot: report: {exc} ({start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M})", file=sys.stderr)
        return 2
    try:
        problem = schema_problem(settings.database_url)
        if problem is not None:
            print(f"incidentbot: report: {problem}", file=sys.stderr)
            return 2
        engine = make_engine(settings.database_url)
        try:
            insights = SqlInsights(make_session_factory(engine)).read(query)
        finally:
            engine.dispose()
    except SQLAlchemyError as exc:
        # The driver's first line says what went wrong (refused, unknown host, bad password), no URL.
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        print(f"incidentbot: report: cannot read the database: {reason}", file=sys.stderr)
        return 1
    content = render(insights, args.format, config)
    output: Path | None = args.output
    try:
        if output is not None:
            write_private(output, content)
        else:
            sys.stdout.flush()
            sys.stdout.buffer.write(content)
            sys.stdout.buffer.flush()
    except OSError as exc:
        print(f"incidentbot: cannot write the report: {exc}", file=sys.stderr)
        return 1
    return 0
