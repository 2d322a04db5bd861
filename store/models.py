"""The schema: tables for the incident records (mapped onto commands.records), deliveries and names."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    inspect,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from commands.records import (
    ActionItem,
    BotPost,
    ChecklistItem,
    Incident,
    Page,
    RoleAssignment,
    SlackJob,
    TimelineEvent,
    TrackerLink,
)
from store.fast_init import install_fast_init

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

    def process_bind_param(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: pass a timezone-aware UTC value")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


# The records the commands use are plain classes (commands.records); these tables map them, imperatively.
incidents = Table(
    "incidents",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", String(250), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("severity", String(40), nullable=False),
    Column("status", String(40), nullable=False, index=True),
    Column("private", Boolean, nullable=False, default=False),
    Column("channel_id", String(40), unique=True),
    Column("channel_name", String(80)),
    Column("declared_by", String(40), nullable=False),
    # Indexed: a declaration looks for possible duplicates among the incidents declared in the last day.
    Column("declared_at", UTCDateTime(), nullable=False, index=True),
    Column("declared_in", String(40)),
    Column("resolved_at", UTCDateTime()),
    Column("resolved_by", String(40)),
    Column("resolution_summary", Text),
    Column("provisioned_at", UTCDateTime()),
    Column("last_update_at", UTCDateTime()),
    # The reminder tick reads only these indexed columns, so its cost follows what is due.
    Column("next_update_due_at", UTCDateTime(), index=True),
    Column("reminders_since_update", Integer, nullable=False, default=0, server_default="0"),
    Column("commander_due_at", UTCDateTime(), index=True),
    Column("timeline_pruned_at", UTCDateTime()),
    # Triage: the configured type (None: the default type), services, a drill, and impact x urgency.
    Column("incident_type", String(40)),
    Column("services", JSON, nullable=False, default=list, server_default=text("'[]'")),
    Column("drill", Boolean, nullable=False, default=False, server_default=false()),
    Column("impact", String(10)),
    Column("urgency", String(10)),
    Column("duplicate_of", ForeignKey("incidents.id")),
    # Found at declaration: an open incident sharing a service (declared in the last two hours) or a title.
    Column("possible_duplicate_of", Integer),
    # Lifecycle timers, claimed like reminders: read through their indexes, so the tick costs what is due.
    Column("stale_due_at", UTCDateTime(), index=True),
    Column("archive_due_at", UTCDateTime(), index=True),
    Column("archived_at", UTCDateTime()),
    # A reopen outdates the shared postmortem draft; the next resolve, which schedules a fresh one, clears it.
    Column("postmortem_outdated_at", UTCDateTime()),
    Column("last_activity_at", UTCDateTime()),  # the latest human activity (None: none since declaring)
    # Milestones, kept on the row so reports aggregate them in SQL (commands/milestones.py says when).
    Column("acknowledged_at", UTCDateTime()),
    Column("mitigated_at", UTCDateTime()),
    # Severity targets: the next 80% warning or breach still owed (commands/targets.py), claimed like
    # the lifecycle timers, through its index.
    Column("target_due_at", UTCDateTime(), index=True),
    # Detection and impact (commands/impact.py): when impact began and when someone noticed it.
    Column("impact_started_at", UTCDateTime()),
    Column("detected_at", UTCDateTime()),
    # The postmortem's owner (None: the commander at resolve time), status (None: draft) and review day;
    # its owner's reminder and its daily refresh, claimed by the tick through their indexes
    # (commands/postmortem_owner.py).
    Column("postmortem_owner", String(40)),
    Column("postmortem_status", String(20)),
    Column("review_date", Date()),
    Column("postmortem_due_at", UTCDateTime(), index=True),
    Column("postmortem_refresh_at", UTCDateTime(), index=True),
    # Retention finds incidents whose timeline text is due for removal in this index: the pruned ones sort
    # apart from the rest, so its cost follows what is due, not how many incidents were ever resolved.
    Index(None, "timeline_pruned_at", "resolved_at"),
)

role_assignments = Table(
    "role_assignments",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(40), nullable=False),
    Column("user_id", String(40), nullable=False),
    Column("assigned_by", String(40), nullable=False),
    Column("assigned_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime()),
    Index(None, "incident_id", "role"),
)

timeline_events = Table(
    "timeline_events",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("actor", String(40)),
    Column("text", Text, nullable=False, default=""),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("message_channel", String(40)),
    Column("message_ts", String(40)),
    Column("permalink", Text),
    Column("data", JSON, nullable=False, default=dict),
    Index(None, "incident_id", "occurred_at"),
    # Reports probe an incident's events of one kind (escalated, reopened, the reminder before an update).
    Index(None, "incident_id", "kind", "occurred_at"),
)

bot_posts = Table(
    "bot_posts",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("purpose", String(80), nullable=False),
    Column("channel_id", String(40), nullable=False),
    Column("ts", String(40), nullable=False),
    Column("posted_at", UTCDateTime(), nullable=False),
    UniqueConstraint("incident_id", "purpose"),
)

slack_jobs = Table(
    "slack_jobs",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("payload", JSON, nullable=False, default=dict),
    Column("done_steps", JSON, nullable=False, default=list),
    Column("attempts", Integer, nullable=False, default=0),
    # NULL once finished: the sweeper's index then only holds work that is still owed.
    Column("due_at", UTCDateTime()),
    Column("claimed_until", UTCDateTime()),
    # The process holding the claim: it renews its leases on a timer and releases them when it stops.
    Column("claimed_by", String(80)),
    Column("last_error", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
    # finished_at: retention deletes finished jobs oldest first, reading only the ones past their time.
    Index(None, "due_at"),
    Index(None, "claimed_by"),
    Index(None, "finished_at"),
)

action_items = Table(
    "action_items",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("text", Text, nullable=False),
    Column("owner", String(40)),
    Column("created_by", String(40), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    # Follow-through: when it is due (the end of that day in the configured zone), how urgent, who
    # finished it and when (None: still open).
    Column("due_at", UTCDateTime()),
    Column("priority", String(2)),
    Column("done_at", UTCDateTime()),
    Column("done_by", String(40)),
    # The weekly reminder slot in which this open, owned item is next sent to its owner (None: never):
    # the first slot after it falls due, then a week later each time, or later when snoozed.
    Column("remind_at", UTCDateTime()),
    Column("kind", String(10)),  # mitigate | prevent | process; None: untyped
    Index(None, "incident_id"),
    # Overdue items (open, past due) are found through this index, by owner.
    Index(None, "done_at", "due_at"),
    Index(None, "remind_at"),
)

checklist_items = Table(
    "checklist_items",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("text", Text, nullable=False),
    # Where the item came from: "type:<name>" or "severity:<name>".
    Column("source", String(40), nullable=False),
    Column("done_by", String(40)),
    Column("done_at", UTCDateTime()),
    Index(None, "incident_id"),
)

tracker_links = Table(
    "tracker_links",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("action_item_id", ForeignKey("action_items.id", ondelete="CASCADE"), nullable=False, unique=True),
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("tracker", String(20), nullable=False),
    Column("key", String(100), nullable=False),
    Column("url", Text, nullable=False),
    Column("state", String(10), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    # The periodic check reads only this index (NULL once closed), so its cost follows what is due.
    Column("next_check_at", UTCDateTime(), index=True),
    Column("closed_at", UTCDateTime()),
    Index(None, "incident_id"),
)

pages = Table(
    "pages",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("policy", String(80)),
    Column("dedup_key", String(120), nullable=False),
    Column("run", Integer, nullable=False),
    Column("round", Integer, nullable=False),
    Column("tier", Integer, nullable=False),
    Column("rounds", Integer, nullable=False),
    Column("target", String(120), nullable=False),
    Column("paged_by", String(40)),
    Column("paged_at", UTCDateTime(), nullable=False),
    # The tick reads only this indexed column (set on the first row of the tier waited on), so its cost
    # follows what is due; a claim clears it in one conditional UPDATE.
    Column("ack_due_at", UTCDateTime(), index=True),
    Column("acknowledged_at", UTCDateTime()),
    Column("acknowledged_by", String(200)),
    Column("acknowledged_via", String(20)),
    Column("closed_at", UTCDateTime()),
    Index(None, "incident_id", "dedup_key", "run"),
    # A pager's acknowledgement names only the dedup key.
    Index(None, "dedup_key", "closed_at"),
)

Base.registry.map_imperatively(
    Incident,
    incidents,
    properties={
        "roles": relationship(
            RoleAssignment,
            back_populates="incident",
            order_by=role_assignments.c.id,
            cascade="all, delete-orphan",
        )
    },
)
Base.registry.map_imperatively(
    RoleAssignment, role_assignments, properties={"incident": relationship(Incident, back_populates="roles")}
)
Base.registry.map_imperatively(TimelineEvent, timeline_events)
Base.registry.map_imperatively(BotPost, bot_posts)
Base.registry.map_imperatively(SlackJob, slack_jobs)
Base.registry.map_imperatively(ActionItem, action_items)
Base.registry.map_imperatively(ChecklistItem, checklist_items)
Base.registry.map_imperatively(TrackerLink, tracker_links)
Base.registry.map_imperatively(Page, pages)

# The records a burst's group commit builds by the hundred get a constructor without per-field ORM events.
for _record in (Incident, TimelineEvent, SlackJob, ChecklistItem):
    install_fast_init(_record)

# Loader option target, typed: the records' own annotations say `list`, the mapping makes it a relationship.
INCIDENT_ROLES = inspect(Incident).relationships["roles"].class_attribute

TABLES: dict[type, Table] = {
    Incident: incidents,
    RoleAssignment: role_assignments,
    TimelineEvent: timeline_events,
    BotPost: bot_posts,
    SlackJob: slack_jobs,
    ChecklistItem: checklist_items,
    ActionItem: action_items,
    TrackerLink: tracker_links,
    Page: pages,
}


class ProcessedDelivery(Base):
    """A Slack delivery (event id, interaction) already acted on, so retries act once across replicas."""

    __tablename__ = "processed_deliveries"
    __table_args__ = (Index(None, "received_at"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime]


class Person(Base):
    """A workspace member's name as Slack last told us, so drafts and offline exports can show names."""

    __tablename__ = "people"

    user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Set by `incidentbot forget-user`: the name is gone and Slack is never asked for it again.
    forgotten_at: Mapped[datetime | None]


class AlertGroup(Base):
    """An alerting system's group (Alertmanager's groupKey), so its repeats reach the incident it declared.

    The primary key is the unique claim: two deliveries of a new group racing cannot both declare.
    """

    __tablename__ = "alert_groups"

    source: Mapped[str] = mapped_column(String(20), primary_key=True)
    # sha256 of the group key: Alertmanager's keys are label sets of any length.
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    firing: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class HomeViewer(Base):
    """Someone who has opened the bot's Home tab: only they are ever re-published to, and only when stale."""

    __tablename__ = "home_viewers"
    # The refresh reads the stale ones in this index, so its cost follows what changed, not who exists.
    __table_args__ = (Index(None, "stale_since"),)

    user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    opened_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    # Set when something they see changed; cleared by the publish that showed it (if nothing newer came).
    stale_since: Mapped[datetime | None]
    # A replica publishing this view holds it until then; a crashed one's claim simply runs out.
    claimed_until: Mapped[datetime | None]


class HomeCursor(Base):
    """The last timeline event the Home refresh has looked at (one row): changes are read after it."""

    __tablename__ = "home_cursor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_event_id: Mapped[int]


class ChartShareRow(Base):
    """Charts to share in a channel (`/incident stats`, the weekly digest), and what of them has landed.

    Claimed like a Slack job: `due_at` says when it is owed (None once finished), `claimed_until` is the
    lease of the process running it; `files` maps each uploaded chart to its Slack file id.
    """

    __tablename__ = "chart_shares"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(100))
    requested_by: Mapped[str | None] = mapped_column(String(40))
    since: Mapped[datetime]
    until: Mapped[datetime]
    asked_at: Mapped[datetime]
    files: Mapped[dict[str, Any]]
    posted_ts: Mapped[str | None] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    claimed_until: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))


class DigestSchedule(Base):
    """When a digest is next due; the row is claimed by moving `next_due_at`, so replicas post it once."""

    __tablename__ = "digest_schedules"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    schedule: Mapped[str] = mapped_column(String(40))
    next_due_at: Mapped[datetime]


class PostmortemVersion(Base):
    """A postmortem draft as uploaded: its bytes, so `export --version N` gives exactly what people got.

    `job_id` is the upload job that recorded it: a retried job finds its version instead of adding one.
    """

    __tablename__ = "postmortem_versions"
    __table_args__ = (Index(None, "job_id", unique=True),)

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    job_id: Mapped[int]
    markdown: Mapped[str] = mapped_column(Text)
    # What the draft showed, in counts and digests: the next version says what changed since this one.
    snapshot: Mapped[dict[str, Any]]
    changes: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime]


class PostmortemPublication(Base):
    """A postmortem version as committed to the repository ([publish.github]): one row per version, so a
    retried publish job finds it instead of committing or announcing it again."""

    __tablename__ = "postmortem_publications"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    path: Mapped[str] = mapped_column(Text)
    commit_sha: Mapped[str] = mapped_column(String(64))
    commit_url: Mapped[str] = mapped_column(Text)
    html_url: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime]
    job_id: Mapped[int]
