"""Pages: the late tiers are read through the indexed `ack_due_at` and claimed with a conditional UPDATE."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commands.records import Page
from store.models import pages

_UNSYNCED = {"synchronize_session": False}


class PageRepository:
    """A claim is one `UPDATE ... WHERE ack_due_at <= :now AND closed_at IS NULL RETURNING`, as for
    reminders: an acknowledgement or a resolve committed first always wins (on PostgreSQL a second
    replica's UPDATE waits for the first, then finds the row no longer due)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def insert_many(self, new: Sequence[Page]) -> None:
        if new:
            self.session.add_all(new)
            self.session.flush()

    def get(self, page_id: int) -> Page | None:
        return self.session.get(Page, page_id)

    def list_for(self, incident_id: int) -> Sequence[Page]:
        stmt = select(Page).where(pages.c.incident_id == incident_id).order_by(pages.c.id)
        return self.session.scalars(stmt).all()

    def run_of(self, incident_id: int, dedup_key: str, run: int) -> Sequence[Page]:
        stmt = (
            select(Page)
            .where(pages.c.incident_id == incident_id, pages.c.dedup_key == dedup_key, pages.c.run == run)
            .order_by(pages.c.id)
        )
        return self.session.scalars(stmt).all()

    def open_by_key(self, dedup_key: str) -> Sequence[Page]:
        stmt = (
            select(Page)
            .where(pages.c.dedup_key == dedup_key, pages.c.closed_at.is_(None))
            .order_by(pages.c.id)
        )
        return self.session.scalars(stmt).all()

    def due(self, now: datetime, limit: int) -> list[tuple[int, datetime]]:
        stmt = (
            select(pages.c.id, pages.c.ack_due_at)
            .where(pages.c.ack_due_at <= now)
            .order_by(pages.c.ack_due_at, pages.c.id)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in self.session.execute(stmt) if row[1] is not None]

    def claim(self, ids: Sequence[int], now: datetime) -> set[int]:
        if not ids:
            return set()
        stmt = (
            update(Page)
            .where(pages.c.id.in_(ids), pages.c.ack_due_at <= now, pages.c.closed_at.is_(None))
            .values(ack_due_at=None)
            .returning(pages.c.id)
            .execution_options(**_UNSYNCED)
        )
        claimed = {row[0] for row in self.session.execute(stmt)}
        # A row closed before its timer was claimed keeps no timer: it must not come up again.
        stale = (
            update(Page)
            .where(pages.c.id.in_(ids), pages.c.closed_at.is_not(None))
            .values(ack_due_at=None)
            .execution_options(**_UNSYNCED)
        )
        self.session.execute(stale)
        return claimed

    def _close(self, *criteria: object, now: datetime) -> int:
        stmt = (
            update(Page)
            .where(*criteria, pages.c.closed_at.is_(None))  # type: ignore[arg-type]
            .values(closed_at=now, ack_due_at=None)
            .execution_options(**_UNSYNCED)
        )
        result = self.session.execute(stmt)
        count = getattr(result, "rowcount", 0)
        self.session.expire_all()  # rows already loaded here must show what was just written
        return int(count or 0)

    def close_run(self, incident_id: int, dedup_key: str, run: int, now: datetime) -> int:
        return self._close(
            pages.c.incident_id == incident_id, pages.c.dedup_key == dedup_key, pages.c.run == run, now=now
        )

    def close_incident(self, incident_id: int, now: datetime) -> int:
        return self._close(pages.c.incident_id == incident_id, now=now)
