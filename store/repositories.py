"""Repositories: the queries the actions need, over a session whose lifetime the unit of work owns."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    String,
    bindparam,
    case,
    delete,
    false,
    func,
    null,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from commands.records import (
    ActionItem,
    BotPost,
    ChecklistItem,
    DuplicateCandidate,
    Incident,
    SlackJob,
    TimelineEvent,
)
from commands.vocabulary import IncidentStatus
from store.bulk import insert_rows
from store.models import (
    INCIDENT_ROLES,
    TABLES,
    Person,
    ProcessedDelivery,
    action_items,
    bot_posts,
    checklist_items,
    incidents,
    slack_jobs,
    timeline_events,
)
from store.notify import is_postgres, notify_job_finished, notify_jobs
from store.retention import PRUNED_KINDS

# Criteria on table columns cannot be evaluated in Python, and the rows these statements change are never
# held in the session that runs them: the ORM need not look for copies to update.
UNSYNCED = {"synchronize_session": False}
# The first key of the advisory locks taken per declaring person, apart from any other lock's keys.
_DECLARE_LOCK_SPACE = 0x1DEC


def column_values(obj: Incident | TimelineEvent | SlackJob | BotPost) -> dict[str, Any]:
    """The column values of a not-yet-added record, for a Core INSERT (every column, set or None).

    Read from the record's own dict: its constructor set every field, and going through the ORM's
    attribute machinery for each of a burst's hundred records cost more than the INSERT's parameters.
    """
    values = obj.__dict__
    return {key: values.get(key) for key in _INSERT_KEYS[type(obj)]}


# Every column but the serial id, per record type column_values is used for.
_INSERT_KEYS = {
    record: tuple(c.key for c in TABLES[record].columns if c.key != "id")
    for record in (Incident, TimelineEvent, SlackJob, BotPost)
}


def _insert_returning_ids(session: Session, rows: Sequence[Incident | SlackJob]) -> list[int]:
    """One multi-row INSERT for rows of one table; the new ids in the order of `rows`, set on them too."""
    if not rows:
        return []
    table = TABLES[type(rows[0])]
    ids = insert_rows(session.connection(), table, [column_values(r) for r in rows], returning_ids=True)
    for obj, new_id in zip(rows, ids, strict=True):
        obj.id = new_id
    return ids


def _finished_among(match: ColumnElement[bool]) -> Select[Any]:
    return (
        select(slack_jobs.c.id, slack_jobs.c.last_error, incidents.c.channel_id)
        .join(incidents, incidents.c.id == slack_jobs.c.incident_id)
        .where(match, slack_jobs.c.finished_at.is_not(None))
    )


# What the duplicate check reads of a candidate (commands.duplicate.looks_like), in DuplicateCandidate order.
def _recent_open(services: ColumnElement[Any]) -> Select[Any]:
    c = incidents.c
    return (
        select(c.id, c.title, c.status, c.private, c.drill, services, c.declared_at)
        .where(
            c.declared_at >= bindparam("since", type_=c.declared_at.type),
            c.status != IncidentStatus.RESOLVED,
            c.private.is_(False),
        )
        .order_by(c.declared_at.desc(), c.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )


_RECENT_OPEN = _recent_open(incidents.c.services)
_RECENT_OPEN_WITHOUT_SERVICES = _recent_open(null().label("services"))  # read back as no services

# Built once: JobWatch runs this ten times a second while replies wait. On PostgreSQL `= ANY(:ids)` is one
# SQL text whatever the number of ids, so the driver prepares it, where an expanded IN is new SQL each time.
_FINISHED_AMONG_PG = _finished_among(slack_jobs.c.id == func.any(bindparam("ids", type_=ARRAY(Integer))))
_FINISHED_AMONG = _finished_among(slack_jobs.c.id.in_(bindparam("ids", expanding=True)))


def _declares_since(by_person: ColumnElement[bool]) -> Select[Any]:
    return (
        select(incidents.c.declared_by, func.count(), func.min(incidents.c.declared_at))
        .where(by_person, incidents.c.declared_at > bindparam("since", type_=incidents.c.declared_at.type))
        .group_by(incidents.c.declared_by)
    )


# Read in every declare batch's transaction, for a burst's hundred declarers: one SQL text as above.
_DECLARES_SINCE_PG = _declares_since(
    incidents.c.declared_by == func.any(bindparam("people", type_=ARRAY(String)))
)
_DECLARES_SINCE = _declares_since(incidents.c.declared_by.in_(bindparam("people", expanding=True)))
# A batch's peer links: one statement run for every row (psycopg pipelines an executemany).
_LINK_DUPLICATE = (
    update(incidents)
    .where(incidents.c.id == bindparam("b_id"))
    .values(possible_duplicate_of=bindparam("b_other"))
)


class IncidentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, incident: Incident) -> Incident:
        self.session.add(incident)
        self.session.flush()
        return incident

    def insert_many(self, incidents: Sequence[Incident]) -> list[int]:
        """Insert transient incidents in one statement (a burst of declares); they stay out of the session."""
        return _insert_returning_ids(self.session, incidents)

    def get(self, incident_id: int, *, for_update: bool = False) -> Incident | None:
        stmt = select(Incident).where(incidents.c.id == incident_id).options(selectinload(INCIDENT_ROLES))
        if for_update:
            self._lock_on_sqlite(incidents.c.id == incident_id)
            stmt = stmt.with_for_update(of=Incident)
        return self.session.scalars(stmt).first()

    def get_many(self, ids: Sequence[int]) -> Sequence[Incident]:
        """Several incidents with their roles in two queries, whatever their number."""
        if not ids:
            return []
        stmt = select(Incident).where(incidents.c.id.in_(set(ids))).options(selectinload(INCIDENT_ROLES))
        return self.session.scalars(stmt).all()

    def get_by_channel(self, channel_id: str, *, for_update: bool = False) -> Incident | None:
        stmt = (
            select(Incident).where(incidents.c.channel_id == channel_id).options(selectinload(INCIDENT_ROLES))
        )
        if for_update:
            self._lock_on_sqlite(incidents.c.channel_id == channel_id)
            stmt = stmt.with_for_update(of=Incident)
        return self.session.scalars(stmt).first()

    def _lock_on_sqlite(self, where: ColumnElement[bool]) -> None:
        """SQLite ignores FOR UPDATE: take its write lock before reading, so read-modify-write serialises."""
        if self.session.get_bind().dialect.name == "sqlite":
            stmt = update(Incident).where(where).values(id=incidents.c.id)
            self.session.execute(stmt, execution_options={"synchronize_session": False})

    def list_open(self, limit: int = 50, *, include_private: bool = True) -> Sequence[Incident]:
        """The newest open incidents; the limit counts only the ones asked for (private left out first)."""
        stmt = select(Incident).where(incidents.c.status != IncidentStatus.RESOLVED)
        if not include_private:
            stmt = stmt.where(incidents.c.private.is_(False))
        stmt = stmt.order_by(incidents.c.declared_at.desc(), incidents.c.id.desc()).limit(limit)
        return self.session.scalars(stmt).all()

    def update_columns(self, incident_id: int, values: Mapping[str, Any]) -> None:
        """Set these columns of one incident by primary key, without reading it."""
        if values:
            stmt = update(Incident).where(incidents.c.id == incident_id).values(**values)
            self.session.execute(stmt, execution_options=UNSYNCED)

    def link_duplicates(self, links: Mapping[int, int]) -> None:
        """Point each incident at the one it may duplicate, in one executemany (pipelined by psycopg)."""
        if links:
            rows = [{"b_id": key, "b_other": other} for key, other in links.items()]
            self.session.connection().execute(_LINK_DUPLICATE, rows)

    def declares_since(self, people: Iterable[str], since: datetime) -> dict[str, tuple[int, datetime]]:
        """Person -> (declares after `since`, the oldest's time), read under a lock per person held until
        commit, so two replicas' transactions cannot both count the same earlier declares and both insert."""
        ordered = sorted(set(people))  # one order everywhere: no deadlock between batches
        self._serialise_declares(ordered)
        stmt = _DECLARES_SINCE_PG if is_postgres(self.session) else _DECLARES_SINCE
        rows = self.session.connection().execute(stmt, {"people": ordered, "since": since})
        return {user: (int(count), oldest) for user, count, oldest in rows}

    def _serialise_declares(self, people: Sequence[str]) -> None:
        """Take a lock per person (PostgreSQL) or the database's write lock (SQLite), until commit."""
        dialect = self.session.get_bind().dialect.name
        if dialect == "postgresql":
            self.session.execute(
                text(
                    "SELECT pg_advisory_xact_lock(:space, hashtext(p)) "
                    "FROM unnest(CAST(:people AS text[])) AS p"
                ),
                {"space": _DECLARE_LOCK_SPACE, "people": list(people)},
            )
        elif dialect == "sqlite":  # a write that matches nothing still takes the database's write lock
            self.session.execute(update(Incident).where(false()).values(id=incidents.c.id))

    def list_since(self, since: datetime | None = None) -> Sequence[Incident]:
        stmt = select(Incident).order_by(incidents.c.id)
        if since is not None:
            stmt = stmt.where(incidents.c.declared_at >= since)
        return self.session.scalars(stmt).all()

    def recent_open(
        self, since: datetime, limit: int, *, services: bool = True
    ) -> Sequence[DuplicateCandidate]:
        """Open, public incidents declared since `since`, newest first: a range of the declared_at index.

        Only what the duplicate check reads, as plain rows fetched at once: a burst's commit reads up to
        `limit` of them, and loading ORM objects with every column cost more than the whole comparison.
        Without `services` (no new incident names one, so none can share one) their JSON is not read.
        """
        stmt = _RECENT_OPEN if services else _RECENT_OPEN_WITHOUT_SERVICES
        rows = self.session.connection().execute(stmt, {"since": since, "limit": limit}).all()
        return [
            DuplicateCandidate(i, title, st, private, drill, svc or [], at)
            for i, title, st, private, drill, svc, at in rows
        ]


class TimelineRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, event: TimelineEvent) -> TimelineEvent:
        self.session.add(event)
        if event.kind in PRUNED_KINDS:
            self._due_for_pruning_again(event.incident_id)
        return event

    def _due_for_pruning_again(self, incident_id: int) -> None:
        """A pin or note on an incident whose text was pruned must be pruned too, so unmark it.

        The commands that add them have just read the incident, so this costs no query.
        """
        incident = self.session.get(Incident, incident_id)
        if incident is not None and incident.timeline_pruned_at is not None:
            incident.timeline_pruned_at = None

    def insert_many(self, events: Sequence[TimelineEvent]) -> None:
        """Insert transient events in one statement, without the ORM's per-object bookkeeping."""
        if events:
            insert_rows(self.session.connection(), timeline_events, [column_values(e) for e in events])

    def list_for(self, incident_id: int) -> Sequence[TimelineEvent]:
        stmt = (
            select(TimelineEvent)
            .where(timeline_events.c.incident_id == incident_id)
            .order_by(timeline_events.c.occurred_at, timeline_events.c.id)
        )
        return self.session.scalars(stmt).all()

    def latest(self, incident_id: int, kind: str) -> TimelineEvent | None:
        stmt = (
            select(TimelineEvent)
            .where(timeline_events.c.incident_id == incident_id, timeline_events.c.kind == kind)
            .order_by(timeline_events.c.occurred_at.desc(), timeline_events.c.id.desc())
            .limit(1)
        )
        return self.session.scalars(stmt).first()

    def data_of(self, incident_id: int, kind: str) -> list[dict[str, Any]]:
        """The `data` of every event of this kind, oldest first (one indexed read, no whole rows)."""
        stmt = (
            select(timeline_events.c.data)
            .where(timeline_events.c.incident_id == incident_id, timeline_events.c.kind == kind)
            .order_by(timeline_events.c.occurred_at, timeline_events.c.id)
        )
        return [data or {} for data in self.session.scalars(stmt)]

    def has_pin(self, incident_id: int, ts: str) -> bool:
        stmt = select(timeline_events.c.id).where(
            timeline_events.c.incident_id == incident_id,
            timeline_events.c.kind == "pinned",
            timeline_events.c.message_ts == ts,
        )
        return self.session.scalars(stmt).first() is not None

    def remove_pin(self, incident_id: int, ts: str) -> int:
        stmt = delete(TimelineEvent).where(
            timeline_events.c.incident_id == incident_id,
            timeline_events.c.kind == "pinned",
            timeline_events.c.message_ts == ts,
        )
        return self.session.execute(stmt, execution_options=UNSYNCED).rowcount  # type: ignore[attr-defined]


class ActionItemRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, item: ActionItem) -> ActionItem:
        self.session.add(item)
        return item

    def list_for(self, incident_id: int) -> Sequence[ActionItem]:
        stmt = select(ActionItem).where(action_items.c.incident_id == incident_id).order_by(action_items.c.id)
        return self.session.scalars(stmt).all()

    def get(self, item_id: int) -> ActionItem | None:
        return self.session.get(ActionItem, item_id)

    def mark_done(self, item_id: int, user_id: str, now: datetime) -> bool:
        """One conditional UPDATE: of two clicks at once, only the first finds the item still open."""
        stmt = (
            update(ActionItem)
            .where(action_items.c.id == item_id, action_items.c.done_at.is_(None))
            .values(done_at=now, done_by=user_id, remind_at=None)
        )
        done = self.session.execute(stmt, execution_options=UNSYNCED).rowcount  # type: ignore[attr-defined]
        item = self.session.get(ActionItem, item_id, populate_existing=True)  # shows the change
        return bool(done) and item is not None

    def snooze(self, item_id: int, until: datetime) -> bool:
        stmt = (
            update(ActionItem)
            .where(action_items.c.id == item_id, action_items.c.done_at.is_(None))
            .values(remind_at=until)
        )
        return bool(self.session.execute(stmt, execution_options=UNSYNCED).rowcount)  # type: ignore[attr-defined]

    def due_reminder_owners(self, now: datetime, limit: int) -> list[str]:
        """Owners with an item whose reminder slot has come: one indexed read on remind_at."""
        stmt = (
            select(action_items.c.owner)
            .where(
                action_items.c.remind_at <= now,
                action_items.c.owner.is_not(None),
                action_items.c.done_at.is_(None),
            )
            .group_by(action_items.c.owner)
            .order_by(func.min(action_items.c.remind_at), action_items.c.owner)
            .limit(limit)
        )
        return [str(owner) for owner in self.session.scalars(stmt)]

    def claim_reminders(
        self, owners: Sequence[str], now: datetime, next_at: datetime
    ) -> Sequence[ActionItem]:
        """Move these owners' due, open items to the next slot; returns the items this claim moved.

        The WHERE is re-checked under the row locks (PostgreSQL), so a second replica claiming the same
        owners at once finds nothing still due, and each item is sent once per slot.
        """
        if not owners:
            return []
        stmt = (
            update(ActionItem)
            .where(
                action_items.c.owner.in_(owners),
                action_items.c.remind_at <= now,
                action_items.c.done_at.is_(None),
            )
            .values(remind_at=next_at)
            .returning(action_items.c.id)
            .execution_options(**UNSYNCED)
        )
        ids = [row[0] for row in self.session.execute(stmt)]
        if not ids:
            return []
        found = select(ActionItem).where(action_items.c.id.in_(ids)).order_by(action_items.c.id)
        return self.session.scalars(found.execution_options(populate_existing=True)).all()


class ChecklistRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def insert_many(self, items: Sequence[ChecklistItem]) -> None:
        """Insert a declaration batch's items in one statement, without the ORM's per-object bookkeeping."""
        if items:
            rows = [
                {c.key: getattr(i, c.key) for c in checklist_items.columns if c.key != "id"} for i in items
            ]
            insert_rows(self.session.connection(), checklist_items, rows)

    def list_for(self, incident_id: int) -> Sequence[ChecklistItem]:
        stmt = (
            select(ChecklistItem)
            .where(checklist_items.c.incident_id == incident_id)
            .order_by(checklist_items.c.position, checklist_items.c.id)
        )
        return self.session.scalars(stmt).all()


class PostRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, post: BotPost) -> None:
        self.session.add(post)

    def get(self, incident_id: int, purpose: str) -> BotPost | None:
        stmt = select(BotPost).where(bot_posts.c.incident_id == incident_id, bot_posts.c.purpose == purpose)
        return self.session.scalars(stmt).first()

    def list_for(self, incident_id: int) -> Sequence[BotPost]:
        return self.session.scalars(select(BotPost).where(bot_posts.c.incident_id == incident_id)).all()

    def insert_many(self, posts: Sequence[BotPost]) -> None:
        """Insert new posts in one statement, without the ORM's per-object bookkeeping."""
        if posts:
            insert_rows(self.session.connection(), bot_posts, [column_values(p) for p in posts])


class JobRepository:
    def __init__(self, session: Session, owner: str | None = None, *, hand_off: bool = False) -> None:
        self.session = session
        self.owner = owner
        # A process that runs no jobs (a web replica beside `incidentbot work`) records them for workers.
        self.hand_off = hand_off
        self.claimed: list[int] = []  # jobs this transaction claimed for this process

    def _own(self, jobs: Sequence[SlackJob]) -> None:
        """Jobs recorded already claimed are held in this process's name, so it can renew or release them.

        When this process hands its jobs off, they are recorded unclaimed and due, and the workers are
        notified in the same transaction, so one of them takes each job the moment it commits.
        """
        handed = False
        for job in jobs:
            if job.claimed_until is None:
                continue
            if self.hand_off:
                job.claimed_until, job.claimed_by, job.attempts = None, None, 0
                handed = True
            else:
                job.claimed_by = self.owner
        if handed:
            notify_jobs(self.session)

    def add(self, job: SlackJob) -> SlackJob:
        self._own([job])
        self.session.add(job)
        self.session.flush()
        if job.claimed_until is not None:
            self.claimed.append(job.id)
        return job

    def insert_many(self, jobs: Sequence[SlackJob]) -> list[int]:
        """Insert transient jobs in one statement; returns their ids in order."""
        self._own(jobs)
        ids = _insert_returning_ids(self.session, jobs)
        self.claimed += [job.id for job in jobs if job.claimed_until is not None]
        return ids

    def update_columns(self, job_id: int, values: Mapping[str, Any]) -> None:
        """Set these columns of one job by primary key, without reading it; finishing it tells the web
        replicas waiting to reply (on commit; the notice says the room as of now, so finish it last)."""
        stmt = update(SlackJob).where(slack_jobs.c.id == job_id).values(**values)
        self.session.execute(stmt, execution_options=UNSYNCED)
        if values.get("finished_at") is not None:
            notify_job_finished(self.session, job_id)

    def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[int]:
        """Claim up to `limit` owed jobs, oldest due first; on PostgreSQL in one statement.

        `FOR UPDATE SKIP LOCKED` lets concurrent workers each take different jobs without waiting on one
        another's row locks; SQLite (one writer at a time) claims each with the conditional UPDATE.
        """
        if limit <= 0:
            return []
        if not is_postgres(self.session):
            ids = self.due_ids(now, limit)
            return [job_id for job_id in ids if self.claim(job_id, now, lease)]
        due = (
            select(slack_jobs.c.id)
            .where(slack_jobs.c.due_at <= now)
            .where(or_(slack_jobs.c.claimed_until.is_(None), slack_jobs.c.claimed_until < now))
            .order_by(slack_jobs.c.due_at, slack_jobs.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        stmt = (
            update(SlackJob)
            .where(slack_jobs.c.id.in_(due))
            .values(claimed_until=now + lease, claimed_by=self.owner, attempts=slack_jobs.c.attempts + 1)
            .returning(slack_jobs.c.id)
        )
        claimed = sorted(self.session.scalars(stmt, execution_options={"synchronize_session": False}))
        self.claimed += claimed
        return claimed

    def next_claimable(self) -> datetime | None:
        """When the soonest unfinished job becomes claimable (due, and its lease over), if any is owed."""
        later = case(
            (slack_jobs.c.claimed_until > slack_jobs.c.due_at, slack_jobs.c.claimed_until),
            else_=slack_jobs.c.due_at,
        )
        stmt = select(func.min(later)).where(
            slack_jobs.c.finished_at.is_(None), slack_jobs.c.due_at.is_not(None)
        )
        return self.session.scalars(stmt).first()

    def finished_among(self, job_ids: Iterable[int]) -> dict[int, tuple[bool, str | None]]:
        """Which of these jobs are finished: whether each gave up, and its incident's room.

        One indexed read for every waiter, so a reply waiting on a worker costs no read of its own.
        """
        ids = sorted(set(job_ids))
        if not ids:
            return {}
        stmt = _FINISHED_AMONG_PG if is_postgres(self.session) else _FINISHED_AMONG
        rows = self.session.connection().execute(stmt, {"ids": ids})
        return {row.id: (row.last_error is not None, row.channel_id) for row in rows}

    def get(self, job_id: int) -> SlackJob | None:
        return self.session.get(SlackJob, job_id)

    def due_ids(self, now: datetime, limit: int = 100) -> list[int]:
        """List jobs owed now; the due_at index keeps this proportional to what is due."""
        stmt = (
            select(slack_jobs.c.id)
            .where(slack_jobs.c.due_at <= now)
            .where(or_(slack_jobs.c.claimed_until.is_(None), slack_jobs.c.claimed_until < now))
            # Ties (jobs deferred together) go oldest first, so one incident's jobs run in one sweep.
            .order_by(slack_jobs.c.due_at, slack_jobs.c.id)
            .limit(limit)
        )
        return list(self.session.scalars(stmt).all())

    def claim(self, job_id: int, now: datetime, lease: timedelta) -> bool:
        """Claim a due job atomically: the conditional UPDATE lets one process win across replicas."""
        stmt = (
            update(SlackJob)
            .where(slack_jobs.c.id == job_id, slack_jobs.c.due_at <= now)
            .where(or_(slack_jobs.c.claimed_until.is_(None), slack_jobs.c.claimed_until < now))
            .values(claimed_until=now + lease, claimed_by=self.owner, attempts=slack_jobs.c.attempts + 1)
        )
        won = self.session.execute(stmt, execution_options=UNSYNCED).rowcount == 1  # type: ignore[attr-defined]
        if won:
            self.claimed.append(job_id)
        return won

    def claim_deferred(self, job_id: int, now: datetime, lease: timedelta, attempts: int) -> bool:
        """Claim a job that was waiting behind another, now, before its due time comes round.

        `attempts` is what the deferral left: every claim adds one, so a job claimed since (and perhaps
        failed, its retry not due yet) is not taken early by a stale wake-up.
        """
        stmt = (
            update(SlackJob)
            .where(
                slack_jobs.c.id == job_id,
                slack_jobs.c.finished_at.is_(None),
                slack_jobs.c.claimed_until.is_(None),
                slack_jobs.c.attempts == attempts,
            )
            .values(claimed_until=now + lease, claimed_by=self.owner, attempts=slack_jobs.c.attempts + 1)
        )
        won = self.session.execute(stmt, execution_options=UNSYNCED).rowcount == 1  # type: ignore[attr-defined]
        if won:
            self.claimed.append(job_id)
        return won

    def unclaim(self, job_id: int) -> None:
        """Give back a claim this process made but cannot act on (it is stopping)."""
        stmt = update(SlackJob).where(slack_jobs.c.id == job_id, self._held()).values(claimed_until=None)
        self.session.execute(stmt, execution_options=UNSYNCED)

    def _held(self) -> ColumnElement[bool]:
        return (
            (slack_jobs.c.claimed_by == self.owner)
            & slack_jobs.c.finished_at.is_(None)
            & slack_jobs.c.claimed_until.is_not(None)
        )

    def renew(self, job_ids: Sequence[int], now: datetime, lease: timedelta) -> int:
        """Extend the leases of these jobs where this process still holds them: one UPDATE."""
        if not job_ids:
            return 0
        stmt = (
            update(SlackJob)
            .where(slack_jobs.c.id.in_(job_ids), self._held())
            .values(claimed_until=now + lease)
        )
        return self.session.execute(stmt, execution_options=UNSYNCED).rowcount  # type: ignore[attr-defined]

    def release(self, now: datetime) -> int:
        """Hand back every job this process holds, due at once, and wake the workers to resume them."""
        stmt = update(SlackJob).where(self._held()).values(claimed_until=None, due_at=now)
        count: int = self.session.execute(stmt, execution_options=UNSYNCED).rowcount  # type: ignore[attr-defined]
        if count:
            notify_jobs(self.session)
        return count

    def pending_for(self, incident_id: int) -> Sequence[SlackJob]:
        stmt = select(SlackJob).where(
            slack_jobs.c.incident_id == incident_id, slack_jobs.c.finished_at.is_(None)
        )
        return self.session.scalars(stmt).all()


class DeliveryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def first_time(self, key: str, now: datetime) -> bool:
        """Record a delivery; False when another transaction (or replica) already recorded it."""
        try:
            with self.session.begin_nested():
                self.session.add(ProcessedDelivery(key=key, received_at=now))
            return True
        except IntegrityError:
            return False

    def expire(self, before: datetime) -> int:
        stmt = delete(ProcessedDelivery).where(ProcessedDelivery.received_at < before)
        return self.session.execute(stmt).rowcount  # type: ignore[attr-defined]


class PeopleRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def names(self, user_ids: Iterable[str]) -> dict[str, str]:
        """The known names of these users (unknown ones are left out)."""
        ids = sorted(set(user_ids))
        if not ids:
            return {}
        rows = self.session.execute(select(Person.user_id, Person.name).where(Person.user_id.in_(ids)))
        return {user_id: name for user_id, name in rows}

    def remember(self, names: Mapping[str, str]) -> None:
        """Store or refresh names (a handful per draft: one merge each), never those of forgotten people."""
        if not names:
            return
        stmt = select(Person.user_id).where(
            Person.user_id.in_(sorted(names)), Person.forgotten_at.is_not(None)
        )
        forgotten = set(self.session.scalars(stmt))
        for user_id, name in names.items():
            if user_id not in forgotten:
                self.session.merge(Person(user_id=user_id, name=name))
