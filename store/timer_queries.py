"""Lifecycle timer queries (stale nudges, archiving): read only the indexed due columns, claim atomically."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, literal, update
from sqlalchemy.orm import Session

from commands.records import Incident
from commands.vocabulary import IncidentStatus
from store.due_claims import claim_incidents, due_incidents
from store.models import incidents

_UNSYNCED = {"synchronize_session": False}


class TimerRepository:
    """A claim is one `UPDATE ... WHERE due <= :now AND <status> RETURNING`, as for reminders: the status
    is checked in the same statement, so a resolve or a reopen committed first always wins (on PostgreSQL
    a second replica's UPDATE waits for the first, then finds the row no longer due)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def due_stale(self, now: datetime, limit: int) -> list[tuple[int, datetime]]:
        return due_incidents(self.session, incidents.c.stale_due_at, now, limit)

    def due_archives(self, now: datetime, limit: int) -> list[tuple[int, datetime]]:
        return due_incidents(self.session, incidents.c.archive_due_at, now, limit)

    def claim_stale(
        self, ids: Sequence[int], now: datetime, next_due: Mapping[str, datetime], fallback: datetime
    ) -> set[int]:
        if not ids:
            return set()
        as_due = incidents.c.stale_due_at.type  # bind through the UTC-aware column type

        def due(value: datetime) -> Any:
            return literal(value, type_=as_due)

        whens = {name: due(value) for name, value in next_due.items()}
        due_at = case(whens, value=incidents.c.severity, else_=due(fallback)) if whens else due(fallback)
        stmt = (
            update(Incident)
            .where(
                incidents.c.id.in_(ids),
                incidents.c.stale_due_at <= now,
                incidents.c.status != IncidentStatus.RESOLVED,
            )
            .values(stale_due_at=due_at)
            .returning(incidents.c.id)
            .execution_options(**_UNSYNCED)
        )
        return {row[0] for row in self.session.execute(stmt)}

    def claim_archives(self, ids: Sequence[int], now: datetime) -> set[int]:
        resolved = incidents.c.status == IncidentStatus.RESOLVED
        return claim_incidents(
            self.session, ids, incidents.c.archive_due_at, now, resolved, archive_due_at=None
        )

    def clear_unclaimed(self, stale: Sequence[int], archives: Sequence[int]) -> None:
        if stale:
            stmt = (
                update(Incident)
                .where(incidents.c.id.in_(stale), incidents.c.status == IncidentStatus.RESOLVED)
                .values(stale_due_at=None)
            )
            self.session.execute(stmt.execution_options(**_UNSYNCED))
        if archives:
            stmt = (
                update(Incident)
                .where(incidents.c.id.in_(archives), incidents.c.status != IncidentStatus.RESOLVED)
                .values(archive_due_at=None)
            )
            self.session.execute(stmt.execution_options(**_UNSYNCED))
