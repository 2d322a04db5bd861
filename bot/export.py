"""`incidentbot export`: an incident's summary for now; the postmortem issue turns this into full exports."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.config import IncidentConfig
from bot.presenter import TemplateRenderer, format_duration
from bot.settings import Settings
from commands.ports import SystemClock
from commands.views import IncidentView, view_of
from store.db import make_engine, make_session_factory
from store.uow import UnitOfWorkFactory


def summary_text(incident: IncidentView, renderer: TemplateRenderer) -> str:
    """Plain-text summary: what a person pasting into a ticket would want."""
    lines = [
        f"{incident.ref}: {incident.title}",
        f"severity: {incident.severity}",
        f"status: {incident.status}",
        f"private: {'yes' if incident.private else 'no'}",
        f"declared: {renderer.when(incident.declared_at)} by {incident.declared_by}",
        f"war room: #{incident.channel_name}" if incident.channel_name else "war room: (not created yet)",
    ]
    if incident.resolved_at:
        lines.append(f"resolved: {renderer.when(incident.resolved_at)} by {incident.resolved_by}")
        lines.append(f"duration: {format_duration(incident.resolved_at - incident.declared_at)}")
    if incident.resolution_summary:
        lines.append(f"resolution: {incident.resolution_summary}")
    lines.extend(f"{role}: {user}" for role, user in incident.roles.items())
    return "\n".join(lines) + "\n"


def run_export(args: argparse.Namespace, settings: Settings, config: IncidentConfig) -> int:
    """Write one incident's summary to stdout or -o FILE; exit 1 when it does not exist."""
    engine = make_engine(settings.database_url)
    try:
        uow = UnitOfWorkFactory(make_session_factory(engine))
        renderer = TemplateRenderer(zone=config.zone, clock=SystemClock())
        if getattr(args, "all", False):
            print(
                "export --all arrives with postmortem exports; export one incident with INC-N.",
                file=sys.stderr,
            )
            return 2
        with uow() as tx:
            incident = tx.incidents.get(int(args.incident_number))
            if incident is None:
                print(f"{args.incident} does not exist.", file=sys.stderr)
                return 1
            text = summary_text(view_of(incident, config.severity_description(incident.severity)), renderer)
        output: Path | None = getattr(args, "output", None)
        if output is not None:
            output.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return 0
    finally:
        engine.dispose()
