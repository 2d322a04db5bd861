"""SQLAlchemy 2 typed models: the incident record, its roles, timeline, posts and durable Slack work."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# A fixed naming convention keeps constraint names stable across SQLite and PostgreSQL, so
# Alembic can drop and alter them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Store timezone-aware UTC datetimes; SQLite hands back naive values, which are UTC by construction."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: pass a timezone-aware UTC value")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Incident(Base):
    """One incident; `id` is the sequential number people see as INC-<id>."""

    __tablename__ = "incidents"
    # Retention finds incidents whose timeline text is due for removal in this index: the pruned ones sort
    # apart from the rest, so its cost follows what is due, not how many incidents were ever resolved.
    __table_args__ = (Index(None, "timeline_pruned_at", "resolved_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(250))
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(40), index=True)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    channel_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    channel_name: Mapped[str | None] = mapped_column(String(80))
    declared_by: Mapped[str] = mapped_column(String(40))
    declared_at: Mapped[datetime]
    declared_in: Mapped[str | None] = mapped_column(String(40))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(40))
    resolution_summary: Mapped[str | None] = mapped_column(Text)
    provisioned_at: Mapped[datetime | None]
    last_update_at: Mapped[datetime | None]
    # The reminder tick reads only these indexed columns, so its cost follows what is due.
    next_update_due_at: Mapped[datetime | None] = mapped_column(index=True)
    reminders_since_update: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    commander_due_at: Mapped[datetime | None] = mapped_column(index=True)
    # When retention last replaced this incident's pinned-message and note text; a later pin or note
    # clears it, so that text is pruned too.
    timeline_pruned_at: Mapped[datetime | None]

    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="incident", order_by="RoleAssignment.id", cascade="all, delete-orphan"
    )

    @property
    def ref(self) -> str:
        return f"INC-{self.id}"


class RoleAssignment(Base):
    """Who holds a role; a handover ends the previous row instead of deleting it."""

    __tablename__ = "role_assignments"
    __table_args__ = (Index(None, "incident_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[str] = mapped_column(String(40))
    assigned_by: Mapped[str] = mapped_column(String(40))
    assigned_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    incident: Mapped[Incident] = relationship(back_populates="roles")


class TimelineEvent(Base):
    """Something that happened during the incident, with who did it and when."""

    __tablename__ = "timeline_events"
    __table_args__ = (Index(None, "incident_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text, default="")
    occurred_at: Mapped[datetime]
    message_channel: Mapped[str | None] = mapped_column(String(40))
    message_ts: Mapped[str | None] = mapped_column(String(40))
    permalink: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class BotPost(Base):
    """A message the bot has posted, recorded once so a retried step never posts it again."""

    __tablename__ = "bot_posts"
    __table_args__ = (UniqueConstraint("incident_id", "purpose"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(80))
    channel_id: Mapped[str] = mapped_column(String(40))
    ts: Mapped[str] = mapped_column(String(40))
    posted_at: Mapped[datetime]


class SlackJob(Base):
    """Durable intent to perform Slack side effects; steps already done are listed and never repeated."""

    __tablename__ = "slack_jobs"
    # finished_at: retention deletes finished jobs oldest first, reading only the ones past their time.
    __table_args__ = (Index(None, "due_at"), Index(None, "claimed_by"), Index(None, "finished_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    done_steps: Mapped[list[str]] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # NULL once finished: the sweeper's index then only holds work that is still owed.
    due_at: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]
    # The process holding the claim: it renews its leases on a timer and releases them when it stops.
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class ProcessedDelivery(Base):
    """A Slack delivery (event id, interaction) already acted on, so retries act once across replicas."""

    __tablename__ = "processed_deliveries"
    __table_args__ = (Index(None, "received_at"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime]


class ActionItem(Base):
    """Follow-up work agreed during or after the incident, for the postmortem."""

    __tablename__ = "action_items"
    __table_args__ = (Index(None, "incident_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]


class Person(Base):
    """A workspace member's name as Slack last told us, so drafts and offline exports can show names."""

    __tablename__ = "people"

    user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Set by `incidentbot forget-user`: the name is gone and Slack is never asked for it again.
    forgotten_at: Mapped[datetime | None]
