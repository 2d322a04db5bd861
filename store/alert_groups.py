"""Alert groups: claimed once per source and group key, locked while a delivery of theirs is recorded."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import false, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commands.records import AlertGroupState, Incident
from store.models import AlertGroup, incidents

# The first key of the advisory locks taken per alert group, apart from any other lock's keys.
_ALERT_LOCK_SPACE = 0xA1E7


def _key_hash(source: str, group_key: str) -> str:
    return hashlib.sha256(f"{source}\n{group_key}".encode()).hexdigest()


class AlertGroupRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def lock(self, source: str, group_key: str) -> AlertGroupState | None:
        """Take a lock on the group (PostgreSQL) or the database's write lock (SQLite) until commit, so
        concurrent deliveries of one group (retries, repeats) are recorded one after another; then read it."""
        key = _key_hash(source, group_key)
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":
            self.session.execute(
                text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))"),
                {"space": _ALERT_LOCK_SPACE, "key": key},
            )
        elif dialect == "sqlite":  # a write that matches nothing still takes the write lock
            self.session.execute(update(Incident).where(false()).values(id=incidents.c.id))
        row = self.session.execute(
            select(AlertGroup.incident_id, AlertGroup.firing).where(
                AlertGroup.source == source, AlertGroup.key_hash == key
            )
        ).first()
        if row is None:
            return None
        return AlertGroupState(incident_id=row.incident_id, firing=dict(row.firing or {}))

    def claim(self, source: str, group_key: str, now: datetime) -> bool:
        """Insert the group; False when it exists (the primary key refuses a second claim)."""
        try:
            with self.session.begin_nested():
                self.session.add(
                    AlertGroup(
                        source=source,
                        key_hash=_key_hash(source, group_key),
                        incident_id=None,
                        firing={},
                        updated_at=now,
                    )
                )
            return True
        except IntegrityError:
            return False

    def save(self, source: str, group_key: str, state: AlertGroupState, now: datetime) -> None:
        self.session.execute(
            update(AlertGroup)
            .where(AlertGroup.source == source, AlertGroup.key_hash == _key_hash(source, group_key))
            .values(incident_id=state.incident_id, firing=dict(state.firing), updated_at=now),
            execution_options={"synchronize_session": False},
        )
