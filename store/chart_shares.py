"""Chart shares and the digest's schedule: each method one short transaction, each claim one conditional
UPDATE, so replicas on one PostgreSQL (or one SQLite file) never run a share or post a digest twice."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from commands.chart_shares import ChartShare, NewShare
from store.models import ChartShareRow, DigestSchedule

_UNSYNCED = {"synchronize_session": False}
KEEP_FINISHED = timedelta(days=30)


def _row(share: NewShare) -> ChartShareRow:
    return ChartShareRow(
        kind=share.kind,
        channel_id=share.channel_id,
        requested_by=share.requested_by,
        since=share.since,
        until=share.until,
        asked_at=share.asked_at,
        files={},
        attempts=0,
        due_at=share.asked_at,
    )


def _share(row: Any) -> ChartShare:
    return ChartShare(
        id=row.id,
        kind=row.kind,
        channel_id=row.channel_id,
        requested_by=row.requested_by,
        since=row.since,
        until=row.until,
        asked_at=row.asked_at,
        attempts=row.attempts,
        files=dict(row.files or {}),
        posted_ts=row.posted_ts,
    )


class SqlChartShares:
    """The chart shares' store over a session factory (commands/chart_shares.py's ChartShareStore)."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    def add(self, share: NewShare) -> int:
        with self._sessions() as session:
            row = _row(share)
            session.add(row)
            session.commit()
            return row.id

    def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[ChartShare]:
        t = ChartShareRow.__table__.c
        free = or_(t.claimed_until.is_(None), t.claimed_until <= now)
        with self._sessions() as session:
            ids = list(
                session.scalars(
                    select(t.id).where(t.due_at <= now, free).order_by(t.due_at, t.id).limit(limit)
                )
            )
            if not ids:
                return []
            # The conditions again in the UPDATE: on PostgreSQL a racing replica's UPDATE waits for ours,
            # then finds the row held and skips it.
            claimed = session.execute(
                update(ChartShareRow)
                .where(t.id.in_(ids), t.due_at <= now, free)
                .values(claimed_until=now + lease, attempts=t.attempts + 1)
                .returning(*ChartShareRow.__table__.c)
                .execution_options(**_UNSYNCED)
            ).all()
            session.commit()
            return sorted((_share(row) for row in claimed), key=lambda s: s.id)

    def record_file(self, share_id: int, chart: str, file_id: str) -> None:
        with self._sessions() as session:
            row = session.get(ChartShareRow, share_id, with_for_update=True)
            if row is not None:
                row.files = {**(row.files or {}), chart: file_id}
                session.commit()

    def record_post(self, share_id: int, ts: str) -> None:
        self._set(share_id, posted_ts=ts)

    def finish(self, share_id: int, now: datetime, error: str | None = None) -> None:
        t = ChartShareRow.__table__.c
        with self._sessions() as session:
            session.execute(
                update(ChartShareRow)
                .where(t.id == share_id)
                .values(due_at=None, claimed_until=None, finished_at=now, last_error=error)
                .execution_options(**_UNSYNCED)
            )
            # Finished shares are only kept a while (what went wrong, for an operator): pruned here, as
            # shares finish, rather than by a scan on every tick.
            session.execute(delete(ChartShareRow).where(t.finished_at < now - KEEP_FINISHED))
            session.commit()

    def retry_at(self, share_id: int, due_at: datetime) -> None:
        self._set(share_id, due_at=due_at, claimed_until=None)

    def _set(self, share_id: int, **values: Any) -> None:
        with self._sessions() as session:
            session.execute(
                update(ChartShareRow)
                .where(ChartShareRow.__table__.c.id == share_id)
                .values(**values)
                .execution_options(**_UNSYNCED)
            )
            session.commit()

    def digest_due(self, name: str) -> tuple[str, datetime] | None:
        with self._sessions() as session:
            row = session.get(DigestSchedule, name)
            return None if row is None else (row.schedule, row.next_due_at)

    def schedule_digest(self, name: str, schedule: str, next_due: datetime) -> None:
        t = DigestSchedule.__table__.c
        with self._sessions() as session:
            moved = session.execute(
                update(DigestSchedule)
                .where(t.name == name, t.schedule != schedule)
                .values(schedule=schedule, next_due_at=next_due)
                .execution_options(**_UNSYNCED)
            )
            if moved.rowcount:  # type: ignore[attr-defined]
                session.commit()
                return
            if session.get(DigestSchedule, name) is not None:
                return
            session.add(DigestSchedule(name=name, schedule=schedule, next_due_at=next_due))
            try:
                session.commit()
            except IntegrityError:  # another replica scheduled it first: theirs stands
                session.rollback()

    def claim_digest(self, name: str, seen: datetime, next_due: datetime, share: NewShare) -> int | None:
        t = DigestSchedule.__table__.c
        with self._sessions() as session:
            claimed = session.execute(
                update(DigestSchedule)
                .where(t.name == name, t.next_due_at == seen)
                .values(next_due_at=next_due)
                .execution_options(**_UNSYNCED)
            )
            if not claimed.rowcount:  # type: ignore[attr-defined]
                return None
            row = _row(share)
            session.add(row)
            session.commit()
            return row.id
