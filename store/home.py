"""App Home's tables: who has opened it, whose view is stale, and how far the refresh has read the timeline.

The refresh follows the timeline (every declaration, resolution, role change and action item change is
recorded there in the change's own transaction), so no command has to know about Home: the tick reads
the events after its cursor, claims them by moving the cursor with one conditional UPDATE (one replica
wins each batch), and in that same transaction marks stale the viewers they touch. Publishing then claims
each stale viewer the same way, so any number of replicas publish each change once per viewer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from commands.home import RECENT_VIEWERS, REFRESHING_KINDS, Change, Involved, affected
from commands.records import ActionItem, Incident
from commands.vocabulary import IncidentStatus
from store.models import (
    INCIDENT_ROLES,
    HomeCursor,
    HomeViewer,
    action_items,
    incidents,
    role_assignments,
    timeline_events,
)

CURSOR_ID = 1
EVENTS_PER_TICK = 500
ITEMS_SHOWN = 200  # read at most this many of one person's open items (the view shows fewer)


class SqlHome:
    """Home's reads and claims, each in its own short transaction."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory

    def opened(self, user_id: str, now: datetime) -> None:
        """Remember that this person opened Home (they are re-published to from now on)."""
        with self._factory() as session:
            done = _changed(
                session.execute(update(HomeViewer).where(HomeViewer.user_id == user_id).values(opened_at=now))
            )
            if not done:
                session.add(HomeViewer(user_id=user_id, opened_at=now))
            try:
                session.commit()
            except IntegrityError:  # opened twice at once: the other insert is as good as ours
                session.rollback()

    def open_incidents(self, limit: int) -> list[Incident]:
        """The newest open incidents with their roles loaded (two statements, whatever the count)."""
        with self._factory() as session:
            found = list(
                session.scalars(
                    select(Incident)
                    .options(selectinload(INCIDENT_ROLES))
                    .where(incidents.c.status != IncidentStatus.RESOLVED)
                    .order_by(incidents.c.declared_at.desc(), incidents.c.id.desc())
                    .limit(limit)
                ).all()
            )
            session.expunge_all()
        return found

    def owned_items(self, user_id: str) -> tuple[list[ActionItem], dict[int, str]]:
        """The person's open action items, and the reference of each one's incident."""
        with self._factory() as session:
            items = list(
                session.scalars(
                    select(ActionItem)
                    .where(action_items.c.owner == user_id, action_items.c.done_at.is_(None))
                    .order_by(action_items.c.id)
                    .limit(ITEMS_SHOWN)
                ).all()
            )
            session.expunge_all()
        return items, {i.incident_id: f"INC-{i.incident_id}" for i in items}

    def advance(self, now: datetime) -> int:
        """Read the changes after the cursor, claim them, and mark stale whom they touch; how many read."""
        with self._factory() as session:
            cursor = session.get(HomeCursor, CURSOR_ID)
            if cursor is None:
                # First run: what happened before Home existed needs no refresh.
                latest = session.scalar(select(func.max(timeline_events.c.id))) or 0
                session.add(HomeCursor(id=CURSOR_ID, last_event_id=latest))
                try:
                    session.commit()
                except IntegrityError:
                    session.rollback()
                return 0
            seen = cursor.last_event_id
            rows = session.execute(
                select(
                    timeline_events.c.id,
                    timeline_events.c.kind,
                    timeline_events.c.actor,
                    timeline_events.c.incident_id,
                )
                .where(timeline_events.c.id > seen)
                .order_by(timeline_events.c.id)
                .limit(EVENTS_PER_TICK)
            ).all()
            if not rows:
                return 0
            claimed = _changed(
                session.execute(
                    update(HomeCursor)
                    .where(HomeCursor.id == CURSOR_ID, HomeCursor.last_event_id == seen)
                    .values(last_event_id=rows[-1].id)
                )
            )
            if not claimed:
                session.rollback()  # another replica took this batch
                return 0
            changes = [Change(r.kind, r.actor, r.incident_id) for r in rows if r.kind in REFRESHING_KINDS]
            if changes:
                self._mark(session, changes, now)
            session.commit()
            return len(rows)

    def _mark(self, session: Session, changes: Sequence[Change], now: datetime) -> None:
        ids = sorted({c.incident_id for c in changes})
        people: dict[int, set[str]] = {i: set() for i in ids}
        private: dict[int, bool] = {}
        for row in session.execute(
            select(incidents.c.id, incidents.c.declared_by, incidents.c.private).where(
                incidents.c.id.in_(ids)
            )
        ):
            people[row.id].add(row.declared_by)
            private[row.id] = bool(row.private)
        for held in session.execute(
            select(role_assignments.c.incident_id, role_assignments.c.user_id)
            .where(role_assignments.c.incident_id.in_(ids))
            .distinct()
        ):
            people[held.incident_id].add(held.user_id)
        for owns in session.execute(
            select(action_items.c.incident_id, action_items.c.owner)
            .where(action_items.c.incident_id.in_(ids), action_items.c.owner.is_not(None))
            .distinct()
        ):
            people[owns.incident_id].add(str(owns.owner))
        involved = {i: Involved(private.get(i, True), frozenset(people[i])) for i in ids if i in private}
        recent = session.scalars(
            select(HomeViewer.user_id).where(HomeViewer.opened_at >= now - RECENT_VIEWERS)
        ).all()
        users = affected(changes, involved, recent)
        if users:
            # Only people who have opened Home have a row: everyone else is left alone.
            session.execute(
                update(HomeViewer).where(HomeViewer.user_id.in_(sorted(users))).values(stale_since=now)
            )

    def claim_stale(self, now: datetime, lease: timedelta, limit: int) -> list[tuple[str, datetime]]:
        """Claim up to `limit` stale views nobody is publishing: (user, the staleness this publish clears)."""
        with self._factory() as session:
            due = session.execute(
                select(HomeViewer.user_id, HomeViewer.stale_since)
                .where(
                    HomeViewer.stale_since.is_not(None),
                    or_(HomeViewer.claimed_until.is_(None), HomeViewer.claimed_until <= now),
                )
                .order_by(HomeViewer.stale_since)
                .limit(limit)
            ).all()
            won: list[tuple[str, datetime]] = []
            for user_id, stale in due:
                got = _changed(
                    session.execute(
                        update(HomeViewer)
                        .where(
                            HomeViewer.user_id == user_id,
                            HomeViewer.stale_since == stale,
                            or_(HomeViewer.claimed_until.is_(None), HomeViewer.claimed_until <= now),
                        )
                        .values(claimed_until=now + lease)
                    )
                )
                if got and stale is not None:
                    won.append((user_id, stale))
            session.commit()
            return won

    def published(self, user_id: str, now: datetime, cleared: datetime) -> None:
        """Record a publish of what stood at `cleared`; a change marked after that stays owed."""
        with self._factory() as session:
            session.execute(
                update(HomeViewer)
                .where(HomeViewer.user_id == user_id)
                .values(
                    published_at=now,
                    claimed_until=None,
                    stale_since=_cleared(cleared),
                )
            )
            session.commit()

    def release(self, user_id: str, retry_at: datetime) -> None:
        """A publish failed: keep the view stale and let it be claimed again from `retry_at`."""
        with self._factory() as session:
            session.execute(
                update(HomeViewer).where(HomeViewer.user_id == user_id).values(claimed_until=retry_at)
            )
            session.commit()

    def stale_users(self) -> list[str]:
        """Who is owed a publish (for tests and operators)."""
        with self._factory() as session:
            stale = select(HomeViewer.user_id).where(HomeViewer.stale_since.is_not(None))
            return list(session.scalars(stale))


def _cleared(cleared: datetime) -> ColumnElement[datetime | None]:
    """stale_since after a publish: cleared if no change was marked after what the publish showed."""
    stale = HomeViewer.__table__.c.stale_since
    return case((and_(stale.is_not(None), stale <= cleared), None), else_=stale)


def _changed(result: Any) -> int:
    """How many rows an UPDATE changed (a CursorResult's rowcount; Session.execute is typed as Result)."""
    return int(result.rowcount)
