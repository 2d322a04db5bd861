"""Reminder due-work queries: read only the indexed due columns and claim each due row atomically."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from store.models import Incident


class ReminderRepository:
    """Claims are `UPDATE ... WHERE due = :seen`: of any number of replicas, one wins each due time."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def due_updates(self, now: datetime, limit: int) -> list[tuple[int, datetime]]:
        stmt = (
            select(Incident.id, Incident.next_update_due_at)
            .where(Incident.next_update_due_at <= now)
            .order_by(Incident.next_update_due_at)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in self.session.execute(stmt) if row[1] is not None]

    def claim_update(self, incident_id: int, seen: datetime, next_due: datetime | None) -> bool:
        stmt = (
            update(Incident)
            .where(Incident.id == incident_id, Incident.next_update_due_at == seen)
            .values(next_update_due_at=next_due, reminders_since_update=Incident.reminders_since_update + 1)
        )
        return self.session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]

    def due_commander_checks(self, now: datetime, limit: int) -> list[tuple[int, datetime]]:
        stmt = (
            select(Incident.id, Incident.commander_due_at)
            .where(Incident.commander_due_at <= now)
            .order_by(Incident.commander_due_at)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in self.session.execute(stmt) if row[1] is not None]

    def claim_commander_check(self, incident_id: int, seen: datetime) -> bool:
        stmt = (
            update(Incident)
            .where(Incident.id == incident_id, Incident.commander_due_at == seen)
            .values(commander_due_at=None)
        )
        return self.session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]
