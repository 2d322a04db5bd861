"""Reminder due-work queries: read only the indexed due columns and claim the due rows atomically."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, literal, select, update
from sqlalchemy.orm import Session

from commands.records import ClaimedIncident
from store.models import incidents, role_assignments


class ReminderRepository:
    """A claim is one `UPDATE ... WHERE due <= :now RETURNING`: a row is due until someone claims it, and
    on PostgreSQL a second replica's UPDATE waits for the first and then finds it no longer due, so each
    due time is claimed by exactly one process. Claims and reads are Core statements on the table: a tick
    holds none of these rows in its session, so the ORM has nothing to keep in step."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def due_updates(self, now: datetime, limit: int) -> list[tuple[int, datetime]]:
        stmt = (
            select(incidents.c.id, incidents.c.next_update_due_at)
            .where(incidents.c.next_update_due_at <= now)
            .order_by(incidents.c.next_update_due_at, incidents.c.id)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in self.session.execute(stmt) if row[1] is not None]

    def claim_updates(
        self, ids: Sequence[int], now: datetime, next_due: Mapping[str, datetime], fallback: datetime
    ) -> dict[int, int]:
        """Claim the still-due rows among `ids`, moving each to its severity's next due time.

        Returns incident id -> reminders in a row without an update, this one included.
        """
        if not ids:
            return {}
        as_due = incidents.c.next_update_due_at.type  # bind through the UTC-aware column type

        def due(value: datetime) -> Any:
            return literal(value, type_=as_due)

        whens = {name: due(value) for name, value in next_due.items()}
        due_at = case(whens, value=incidents.c.severity, else_=due(fallback)) if whens else due(fallback)
        stmt = (
            update(incidents)
            .where(incidents.c.id.in_(ids), incidents.c.next_update_due_at <= now)
            .values(next_update_due_at=due_at, reminders_since_update=incidents.c.reminders_since_update + 1)
            .returning(incidents.c.id, incidents.c.reminders_since_update)
        )
        return {row[0]: row[1] for row in self.session.execute(stmt)}

    def clear_update_due(self, ids: Sequence[int]) -> None:
        """Forget due times that must not fire (resolved incidents), so no tick reads them again."""
        if ids:
            self.session.execute(
                update(incidents).where(incidents.c.id.in_(ids)).values(next_update_due_at=None)
            )

    def due_commander_checks(self, now: datetime, limit: int) -> list[tuple[int, datetime]]:
        stmt = (
            select(incidents.c.id, incidents.c.commander_due_at)
            .where(incidents.c.commander_due_at <= now)
            .order_by(incidents.c.commander_due_at, incidents.c.id)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in self.session.execute(stmt) if row[1] is not None]

    def claim_commander_checks(self, ids: Sequence[int], now: datetime) -> set[int]:
        """Claim the commander checks still due among `ids` (each fires once)."""
        if not ids:
            return set()
        stmt = (
            update(incidents)
            .where(incidents.c.id.in_(ids), incidents.c.commander_due_at <= now)
            .values(commander_due_at=None)
            .returning(incidents.c.id)
        )
        return {row[0] for row in self.session.execute(stmt)}

    def claimed_incidents(self, ids: Sequence[int]) -> dict[int, ClaimedIncident]:
        """Plain rows, not ORM incidents: loading a hundred whole incidents was a third of a busy tick."""
        if not ids:
            return {}
        wanted = set(ids)
        c, r = incidents.c, role_assignments.c
        roles: dict[int, dict[str, str]] = {}
        current = (
            select(r.incident_id, r.role, r.user_id)
            .where(r.incident_id.in_(wanted), r.ended_at.is_(None))
            .order_by(r.id)
        )
        for incident_id, role, user_id in self.session.execute(current):
            roles.setdefault(incident_id, {})[role] = user_id
        rows = select(c.id, c.status, c.severity, c.declared_by, c.last_update_at).where(c.id.in_(wanted))
        return {
            row.id: ClaimedIncident(
                row.id, row.status, row.severity, row.declared_by, row.last_update_at, roles.get(row.id, {})
            )
            for row in self.session.execute(rows)
        }
