"""Tracker links: record them, read them, and claim the due closed-state checks once across replicas."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commands.records import ActionItem, TrackerLink
from store.models import action_items, tracker_links

_UNSYNCED = {"synchronize_session": False}


class TrackerLinkRepository:
    """A claim is one `UPDATE ... WHERE next_check_at <= :now RETURNING`, as for the lifecycle timers: a
    second replica's UPDATE finds the row no longer due (on PostgreSQL it waits for the first to commit)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, link: TrackerLink) -> TrackerLink:
        self.session.add(link)
        self.session.flush()
        return link

    def get(self, link_id: int) -> TrackerLink | None:
        return self.session.get(TrackerLink, link_id)

    def for_item(self, action_item_id: int) -> TrackerLink | None:
        stmt = select(TrackerLink).where(tracker_links.c.action_item_id == action_item_id)
        return self.session.scalars(stmt).first()

    def list_for(self, incident_id: int) -> Sequence[TrackerLink]:
        stmt = (
            select(TrackerLink).where(tracker_links.c.incident_id == incident_id).order_by(tracker_links.c.id)
        )
        return self.session.scalars(stmt).all()

    def item(self, action_item_id: int) -> ActionItem | None:
        """The action item a link (or its job) is about; changes to it are saved with the transaction."""
        return self.session.scalars(select(ActionItem).where(action_items.c.id == action_item_id)).first()

    def due(self, now: datetime, tracker: str, limit: int) -> list[tuple[int, int]]:
        """(link, incident) of the open links of `tracker` whose check is due, oldest due first."""
        stmt = (
            select(tracker_links.c.id, tracker_links.c.incident_id)
            .where(tracker_links.c.next_check_at <= now, tracker_links.c.tracker == tracker)
            .order_by(tracker_links.c.next_check_at, tracker_links.c.id)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in self.session.execute(stmt)]

    def claim(self, ids: Sequence[int], now: datetime, next_check: datetime) -> set[int]:
        """Claim the links among `ids` still due, moving each to its next check."""
        if not ids:
            return set()
        stmt = (
            update(TrackerLink)
            .where(tracker_links.c.id.in_(ids), tracker_links.c.next_check_at <= now)
            .values(next_check_at=next_check)
            .returning(tracker_links.c.id)
            .execution_options(**_UNSYNCED)
        )
        return {row[0] for row in self.session.execute(stmt)}

    def close(self, link_id: int, now: datetime) -> bool:
        """Record the issue as closed (no more checks); False when another check already did."""
        stmt = (
            update(TrackerLink)
            .where(tracker_links.c.id == link_id, tracker_links.c.state != "closed")
            .values(state="closed", closed_at=now, next_check_at=None)
            .returning(tracker_links.c.id)
            .execution_options(**_UNSYNCED)
        )
        return self.session.execute(stmt).first() is not None

    def check_now(self, tracker: str, key: str, now: datetime) -> int:
        """Make an open link's check due now (a webhook said its issue changed); returns how many."""
        stmt = (
            update(TrackerLink)
            .where(
                tracker_links.c.tracker == tracker,
                tracker_links.c.key == key,
                tracker_links.c.state != "closed",
            )
            .values(next_check_at=now)
            .execution_options(**_UNSYNCED)
        )
        return int(getattr(self.session.execute(stmt), "rowcount", 0) or 0)
