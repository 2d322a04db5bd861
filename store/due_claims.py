"""The two statements every timed claim is made of: read what is due through its index, then claim it
with one conditional UPDATE that re-checks the due time and the state, so replicas act once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commands.records import Incident
from store.models import incidents

_UNSYNCED = {"synchronize_session": False}


def due_incidents(session: Session, column: Any, now: datetime, limit: int) -> list[tuple[int, datetime]]:
    """(incident id, due time) of the incidents whose `column` is due, earliest first: one indexed read."""
    stmt = select(incidents.c.id, column).where(column <= now).order_by(column, incidents.c.id).limit(limit)
    return [(row[0], row[1]) for row in session.execute(stmt) if row[1] is not None]


def claim_incidents(
    session: Session, ids: Sequence[int], column: Any, now: datetime, *state: Any, **values: Any
) -> set[int]:
    """Claim those of `ids` still due and in `state`, setting `values` (the next due time, or None)."""
    if not ids:
        return set()
    stmt = (
        update(Incident)
        .where(incidents.c.id.in_(ids), column <= now, *state)
        .values(**values)
        .returning(incidents.c.id)
        .execution_options(**_UNSYNCED)
    )
    return {row[0] for row in session.execute(stmt)}
