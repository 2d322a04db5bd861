"""Postmortem queries: the owner's reminder and the daily refresh, claimed atomically; uploaded versions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from commands.records import DraftVersion, Incident
from commands.vocabulary import IncidentStatus, PostmortemStatus
from store.due_claims import claim_incidents, due_incidents
from store.models import PostmortemVersion, incidents

_UNSYNCED = {"synchronize_session": False}


def _draft() -> Any:
    return or_(incidents.c.postmortem_status.is_(None), incidents.c.postmortem_status == "draft")


def _unpublished() -> Any:
    return or_(
        incidents.c.postmortem_status.is_(None), incidents.c.postmortem_status != PostmortemStatus.PUBLISHED
    )


def _record(row: PostmortemVersion) -> DraftVersion:
    return DraftVersion(
        incident_id=row.incident_id,
        version=row.version,
        job_id=row.job_id,
        markdown=row.markdown,
        snapshot=dict(row.snapshot),
        changes=row.changes,
        recorded_at=row.recorded_at,
    )


class PostmortemRepository:
    """A claim is one `UPDATE ... WHERE due <= :now AND <state> RETURNING`, as for the lifecycle timers, so
    replicas on one PostgreSQL act once and a status change committed first always wins."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def due_reminders(self, now: datetime, limit: int) -> list[tuple[int, datetime]]:
        return due_incidents(self.session, incidents.c.postmortem_due_at, now, limit)

    def due_refreshes(self, now: datetime, limit: int) -> list[tuple[int, datetime]]:
        return due_incidents(self.session, incidents.c.postmortem_refresh_at, now, limit)

    def claim_reminders(self, ids: Sequence[int], now: datetime) -> set[int]:
        resolved_draft = (incidents.c.status == IncidentStatus.RESOLVED, _draft())
        return claim_incidents(
            self.session, ids, incidents.c.postmortem_due_at, now, *resolved_draft, postmortem_due_at=None
        )

    def claim_refreshes(self, ids: Sequence[int], now: datetime, next_at: datetime) -> set[int]:
        unpublished = (incidents.c.status == IncidentStatus.RESOLVED, _unpublished())
        return claim_incidents(
            self.session,
            ids,
            incidents.c.postmortem_refresh_at,
            now,
            *unpublished,
            postmortem_refresh_at=next_at,
        )

    def clear_unclaimed(self, reminders: Sequence[int], refreshes: Sequence[int]) -> None:
        if reminders:
            stmt = (
                update(Incident)
                .where(
                    incidents.c.id.in_(reminders),
                    or_(incidents.c.status != IncidentStatus.RESOLVED, ~_draft()),
                )
                .values(postmortem_due_at=None)
            )
            self.session.execute(stmt.execution_options(**_UNSYNCED))
        if refreshes:
            stmt = (
                update(Incident)
                .where(
                    incidents.c.id.in_(refreshes),
                    or_(
                        incidents.c.status != IncidentStatus.RESOLVED,
                        incidents.c.postmortem_status == PostmortemStatus.PUBLISHED,
                    ),
                )
                .values(postmortem_refresh_at=None)
            )
            self.session.execute(stmt.execution_options(**_UNSYNCED))

    def overdue(self, resolved_before: datetime, limit: int) -> Sequence[Incident]:
        stmt = (
            select(Incident)
            .where(
                incidents.c.status == IncidentStatus.RESOLVED,
                incidents.c.resolved_at < resolved_before,
                incidents.c.drill.is_(False),
                incidents.c.duplicate_of.is_(None),
                _unpublished(),
            )
            .order_by(incidents.c.resolved_at, incidents.c.id)
            .limit(limit)
        )
        return self.session.scalars(stmt).all()

    def add_version(self, version: DraftVersion) -> None:
        self.session.add(
            PostmortemVersion(
                incident_id=version.incident_id,
                version=version.version,
                job_id=version.job_id,
                markdown=version.markdown,
                snapshot=version.snapshot,
                changes=version.changes,
                recorded_at=version.recorded_at,
            )
        )
        self.session.flush()  # two jobs racing for one number: the second fails here, and is retried

    def version_for_job(self, job_id: int) -> DraftVersion | None:
        row = self.session.scalars(
            select(PostmortemVersion).where(PostmortemVersion.job_id == job_id)
        ).first()
        return None if row is None else _record(row)

    def latest_version(self, incident_id: int) -> DraftVersion | None:
        top = (
            select(func.max(PostmortemVersion.version))
            .where(PostmortemVersion.incident_id == incident_id)
            .scalar_subquery()
        )
        stmt = select(PostmortemVersion).where(
            PostmortemVersion.incident_id == incident_id, PostmortemVersion.version == top
        )
        row = self.session.scalars(stmt).first()
        return None if row is None else _record(row)

    def version(self, incident_id: int, number: int) -> DraftVersion | None:
        row = self.session.get(PostmortemVersion, (incident_id, number))
        return None if row is None else _record(row)
