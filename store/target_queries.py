"""Target timer queries: read the due incidents through the indexed column, claim each atomically."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commands.ports import TargetClock
from commands.records import Incident
from commands.vocabulary import IncidentStatus
from store.models import incidents

_COLUMNS = (
    incidents.c.id,
    incidents.c.target_due_at,
    incidents.c.severity,
    incidents.c.status,
    incidents.c.declared_at,
    incidents.c.acknowledged_at,
    incidents.c.mitigated_at,
)


class TargetRepository:
    """A claim is one `UPDATE ... WHERE target_due_at = :seen AND <what was read> RETURNING`: a second
    replica (on PostgreSQL it waits for the first's row lock, then re-checks) finds the moment moved and
    claims nothing; an escalation, a resolve or a milestone committed since the read makes it fail too, and
    the next tick decides again on what is true then."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def due(self, now: datetime, limit: int) -> list[TargetClock]:
        column = incidents.c.target_due_at
        stmt = select(*_COLUMNS).where(column <= now).order_by(column, incidents.c.id).limit(limit)
        return [
            TargetClock(
                id=row[0],
                due=row[1],
                severity=row[2],
                status=row[3],
                declared_at=row[4],
                acknowledged_at=row[5],
                mitigated_at=row[6],
            )
            for row in self.session.execute(stmt)
            if row[1] is not None
        ]

    def claim(self, clock: TargetClock, next_due: datetime | None) -> bool:
        resolved = incidents.c.status == IncidentStatus.RESOLVED
        conditions: list[Any] = [
            incidents.c.id == clock.id,
            incidents.c.target_due_at == clock.due,
            incidents.c.severity == clock.severity,
            resolved if clock.status == IncidentStatus.RESOLVED else ~resolved,
        ]
        # Milestones are only ever set, never moved: one read as missing must still be missing.
        if clock.acknowledged_at is None:
            conditions.append(incidents.c.acknowledged_at.is_(None))
        if clock.mitigated_at is None:
            conditions.append(incidents.c.mitigated_at.is_(None))
        stmt = (
            update(Incident)
            .where(*conditions)
            .values(target_due_at=next_due)
            .returning(incidents.c.id)
            .execution_options(synchronize_session=False)
        )
        return self.session.execute(stmt).first() is not None
