"""`incidentbot export`: the postmortem draft (byte for byte what the war room got) or a JSON record."""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from datetime import UTC, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.ops.config import IncidentConfig
from bot.ops.migrate import schema_problem
from bot.ops.settings import Settings
from bot.render.postmortem import PostmortemDrafts, page_record, target_records
from commands.postmortem import PostmortemData, incident_ids
from commands.postmortem_versions import stored_version
from commands.publish import PublishUnitOfWorkFactory, repository_path
from store.db import make_engine, make_session_factory
from store.uow import SqlUnitOfWorkFactory

EXTENSIONS = {"markdown": "md", "json": "json"}
# Exports hold private incidents' titles, timelines and people: readable by their owner alone.
FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


def _utc(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


def export_record(pm: PostmortemData) -> dict[str, Any]:
    """The incident with its roles, timeline, updates and action items; times in ISO-8601 UTC."""
    m, d = pm.milestones, pm.durations
    return {
        "id": pm.ref,
        "number": pm.id,
        "title": pm.title,
        "description": pm.description,
        "severity": pm.severity,
        "severity_history": [
            {"severity": p.severity, "since": _utc(p.since), "by": p.by} for p in pm.severity_history
        ],
        "status": pm.status,
        "private": pm.private,
        "type": pm.incident_type,
        "services": list(pm.services),
        # Drills are practice: reports and metrics leave them out.
        "drill": pm.drill,
        "impact": pm.impact,
        "urgency": pm.urgency,
        "declared_by": pm.declared_by,
        "declared_at": _utc(m.declared),
        "acknowledged_at": _utc(m.acknowledged),
        "mitigated_at": _utc(m.mitigated),
        "resolved_at": _utc(m.resolved),
        # Only what people recorded (the declare form, `/incident edit`); null until then, never guessed.
        "impact_started_at": _utc(pm.impact_started),
        "detected_at": _utc(pm.detected),
        "resolved_by": pm.resolved_by,
        "resolution_summary": pm.resolution_summary,
        "channel": {"id": pm.channel_id, "name": pm.channel_name},
        "durations_seconds": {
            "to_acknowledge": _seconds(d.to_acknowledge),
            "to_mitigate": _seconds(d.to_mitigate),
            "to_resolve": _seconds(d.to_resolve),
            "mitigated_to_resolved": _seconds(d.mitigated_to_resolved),
            "to_detect": _seconds(pm.time_to_detect),
            "impact": _seconds(pm.impact_duration),
        },
        "postmortem_owner": pm.postmortem_owner,
        "postmortem_status": pm.postmortem_status,
        "review_date": pm.review_date.isoformat() if pm.review_date else None,
        "participants": list(pm.participants),
        "targets": target_records(pm),
        # Names Slack told the bot when a draft was shared (user id -> name); ids stay the keys everywhere.
        "people": dict(pm.names),
        "roles": [
            {
                "role": r.role,
                "user": r.user,
                "assigned_by": r.assigned_by,
                "assigned_at": _utc(r.assigned_at),
                "ended_at": _utc(r.ended_at),
            }
            for r in pm.roles
        ],
        "updates_within_cadence": pm.updates_within_cadence,
        "updates": [
            {
                "posted_at": _utc(u.occurred_at),
                "by": u.by,
                "text": u.text,
                "status": u.status,
                "severity": u.severity,
                "cadence_seconds": _seconds(u.cadence),
                "due_by": _utc(u.due_by),
                "within_cadence": u.within_cadence,
            }
            for u in pm.updates
        ],
        "action_items": [
            {
                "id": a.id,
                "text": a.text,
                "owner": a.owner,
                "created_by": a.created_by,
                "created_at": _utc(a.created_at),
                "due_at": _utc(a.due_at),
                "priority": a.priority,
                "type": a.kind,  # mitigate | prevent | process; null: untyped ("Other" in the draft)
                "status": a.status,
                "done_at": _utc(a.done_at),
                "done_by": a.done_by,
            }
            for a in pm.action_items
        ],
        "pages": [page_record(p, _utc) for p in pm.pages],
        "timeline": [
            {
                "id": e.id,
                "kind": e.kind,
                "occurred_at": _utc(e.occurred_at),
                "actor": e.actor,
                "text": e.text,
                "permalink": e.permalink,
                "message_channel": e.message_channel,
                "message_ts": e.message_ts,
                "data": dict(e.data),
            }
            for e in pm.timeline
        ],
    }


def render(pm: PostmortemData, fmt: str, drafts: PostmortemDrafts) -> bytes:
    """The bytes of one export; the markdown is exactly what the war room's upload carries."""
    if fmt == "json":
        return (json.dumps(export_record(pm), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    return drafts.markdown(pm)


def _since(day: Any, config: IncidentConfig) -> datetime | None:
    """Midnight at the start of DATE in the configured zone, the day people mean."""
    return None if day is None else datetime.combine(day, time(), tzinfo=config.zone)


def write_private(path: Path, content: bytes) -> None:
    """Write a file only its owner may read (0600), whatever the umask, even over an existing file."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE), "wb") as file:
        # O_CREAT's mode passes through the umask and leaves an existing file's mode alone; set it first.
        # Only for a regular file: `-o /dev/stdout` must not change the terminal's or the pipe's mode.
        if stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            os.fchmod(file.fileno(), FILE_MODE)
        file.write(content)


def make_private_directory(directory: Path) -> None:
    """Create `directory` and its missing parents owner-only (0700); existing ones are left as they are."""
    missing = [path for path in (directory, *directory.parents) if not path.exists()]
    for path in reversed(missing):
        path.mkdir(mode=DIRECTORY_MODE, exist_ok=True)
        path.chmod(DIRECTORY_MODE)  # mkdir's mode passes through the umask


def export_all(
    drafts: PostmortemDrafts,
    fmt: str,
    directory: Path,
    since: datetime | None,
    publications: PublishUnitOfWorkFactory,
) -> int:
    """Write one file per incident into `directory`; returns how many were written.

    Markdown goes where publishing puts it when `[publish.github]` is set, so the directory mirrors the
    repository; otherwise (and for JSON) each file is INC-<n>.md or .json at the top.
    """
    make_private_directory(directory)
    template = drafts.config.publish_path if fmt == "markdown" else None
    written = 0
    for number in incident_ids(uow=drafts.uow, since=since):
        pm = drafts.data(number)
        if pm is None:
            continue
        if template is None:
            name = f"{pm.ref}.{EXTENSIONS[fmt]}"
        else:
            name = _repository_path(publications, drafts.config.zone, pm, template)
        target = directory / name
        make_private_directory(target.parent)
        write_private(target, render(pm, fmt, drafts))
        written += 1
    return written


def _repository_path(
    publications: PublishUnitOfWorkFactory, zone: tzinfo, pm: PostmortemData, template: str
) -> str:
    """The file publishing commits this incident's postmortem to (the template is checked at config load:
    relative, no '.' or '..' segments)."""
    with publications() as tx:
        first = tx.publications.first(pm.id)
    declared = pm.milestones.declared
    return repository_path(
        first, template, zone, incident_id=pm.id, ref=pm.ref, title=pm.title, declared_at=declared
    )


def _version(drafts: PostmortemDrafts, pm: PostmortemData, number: int) -> bytes | None:
    """Version `number` as uploaded; None (and why, on stderr) when it is not kept."""
    stored = stored_version(uow=drafts.uow, incident_id=pm.id, number=number)
    if stored is None:
        print(f"{pm.ref} has no uploaded postmortem version {number}.", file=sys.stderr)
        return None
    if not stored:
        print(
            f"{pm.ref} postmortem version {number} is no longer kept: its text was removed by the retention "
            "policy or an erasure request.",
            file=sys.stderr,
        )
        return None
    return stored.encode("utf-8")


def run_export(args: argparse.Namespace, settings: Settings, config: IncidentConfig) -> int:
    """Export one incident to stdout or -o FILE, or all (since a date) into -o DIR; 1 when none exists."""
    try:
        problem = schema_problem(settings.database_url)
    except SQLAlchemyError as exc:  # the driver's first line names the problem, never the password
        problem = "cannot use the database: " + str(getattr(exc, "orig", None) or exc).splitlines()[0]
    if problem is not None:
        print(f"incidentbot: export: {problem}", file=sys.stderr)
        return 1
    engine = make_engine(settings.database_url)
    fmt = getattr(args, "format", None) or "markdown"
    output: Path | None = getattr(args, "output", None)
    try:
        uow = SqlUnitOfWorkFactory(make_session_factory(engine))
        drafts = PostmortemDrafts.for_config(uow, config)
        if getattr(args, "all", False):
            assert output is not None, "the CLI requires -o DIR with --all"
            written = export_all(drafts, fmt, output, _since(getattr(args, "since", None), config), uow)
            print(f"Exported {written} incident(s) to {output}.", file=sys.stderr)
            return 0
        pm = drafts.data(int(args.incident_number))
        if pm is None:
            print(f"INC-{args.incident_number} does not exist.", file=sys.stderr)
            return 1
        number = getattr(args, "version", None)
        # A version is the bytes that were uploaded; without --version, the draft of the state as it is now.
        content = render(pm, fmt, drafts) if number is None else _version(drafts, pm, number)
        if content is None:
            return 1
        if output is not None:
            write_private(output, content)
        elif hasattr(sys.stdout, "buffer"):
            # Bytes, not text: no newline translation, so the export stays identical to the upload.
            sys.stdout.flush()
            sys.stdout.buffer.write(content)
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(content.decode("utf-8"))
        return 0
    except OSError as exc:
        print(f"incidentbot: cannot write the export: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
