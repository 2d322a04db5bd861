"""An in-memory UnitOfWork for unit tests of the commands: the port's semantics, none of the SQL.

A unit of work works on its own copy of the committed state; `commit` makes that copy the committed
state, and leaving the `with` block without committing discards it. Ids come from sequences that, as in
a database, are never given back: incidents and jobs get theirs when inserted or added, timeline events,
action items and role assignments at the next flush (or commit).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from commands.incidents import current_roles
from commands.ports import TargetClock, UnitOfWork, UnitOfWorkFactory
from commands.records import (
    ActionItem,
    AlertGroupState,
    BotPost,
    ChecklistItem,
    ClaimedIncident,
    DraftVersion,
    DuplicateCandidate,
    Incident,
    Page,
    Publication,
    RoleAssignment,
    SlackJob,
    TimelineEvent,
)

R = TypeVar("R", Incident, RoleAssignment, TimelineEvent, BotPost, SlackJob, ActionItem, ChecklistItem, Page)


def clone(record: R) -> R:
    """A copy sharing nothing mutable with the original (built through the constructor, so a record
    class the store has mapped is copied without its ORM state)."""
    values = {f.name: copy.deepcopy(getattr(record, f.name)) for f in fields(record) if f.name != "roles"}
    new = type(record)(**values)
    if isinstance(record, Incident) and isinstance(new, Incident):
        new.roles = [clone(r) for r in record.roles]
    return new


@dataclass
class State:
    """Every table's rows; the committed state, or one unit of work's copy of it."""

    incidents: dict[int, Incident] = field(default_factory=dict)
    timeline: list[TimelineEvent] = field(default_factory=list)
    posts: list[BotPost] = field(default_factory=list)
    jobs: dict[int, SlackJob] = field(default_factory=dict)
    deliveries: dict[str, datetime] = field(default_factory=dict)
    action_items: list[ActionItem] = field(default_factory=list)
    people: dict[str, str] = field(default_factory=dict)
    checklist: list[ChecklistItem] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    alert_groups: dict[tuple[str, str], AlertGroupState] = field(default_factory=dict)
    versions: list[DraftVersion] = field(default_factory=list)
    publications: list[Publication] = field(default_factory=list)

    def copy(self) -> State:
        return State(
            incidents={k: clone(v) for k, v in self.incidents.items()},
            timeline=[clone(e) for e in self.timeline],
            posts=[clone(p) for p in self.posts],
            jobs={k: clone(v) for k, v in self.jobs.items()},
            deliveries=dict(self.deliveries),
            action_items=[clone(i) for i in self.action_items],
            people=dict(self.people),
            checklist=[clone(c) for c in self.checklist],
            pages=[clone(p) for p in self.pages],
            alert_groups=dict(self.alert_groups),
            versions=[clone(v) for v in self.versions],
            publications=[clone(p) for p in self.publications],
        )


class FakeDatabase:
    """The committed state and the id sequences; call it for a unit of work (it is a UnitOfWorkFactory)."""

    def __init__(self) -> None:
        self.committed = State()
        self._sequences: dict[str, itertools.count[int]] = {}
        self.commits = 0

    def next_id(self, table: str) -> int:
        return next(self._sequences.setdefault(table, itertools.count(1)))

    def __call__(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)

    # What tests read: copies of the committed rows, so a test cannot change them by accident.
    def incident(self, incident_id: int) -> Incident:
        return clone(self.committed.incidents[incident_id])

    def events(self, incident_id: int | None = None, kind: str | None = None) -> list[TimelineEvent]:
        return [
            clone(e)
            for e in self.committed.timeline
            if (incident_id is None or e.incident_id == incident_id) and (kind is None or e.kind == kind)
        ]

    def pages(self, incident_id: int | None = None) -> list[Page]:
        return [p for p in self.committed.pages if incident_id is None or p.incident_id == incident_id]

    def jobs(self, kind: str | None = None) -> list[SlackJob]:
        return [clone(j) for j in self.committed.jobs.values() if kind is None or j.kind == kind]

    def checklist(self, incident_id: int) -> list[ChecklistItem]:
        found = [clone(c) for c in self.committed.checklist if c.incident_id == incident_id]
        return sorted(found, key=lambda c: c.position)

    def snapshot(self) -> State:
        """Everything committed, for comparing before and after a refused command."""
        return self.committed.copy()


def same_state(a: State, b: State) -> bool:
    """Whether two states hold the same rows (records compare by identity, so compare their fields)."""

    def rows(state: State) -> Any:
        def row(r: Any) -> Any:
            values = {f.name: getattr(r, f.name) for f in fields(r) if f.name != "roles"}
            if isinstance(r, Incident):
                values["roles"] = [row(x) for x in r.roles]
            return values

        return (
            {k: row(v) for k, v in state.incidents.items()},
            [row(e) for e in state.timeline],
            [row(p) for p in state.posts],
            {k: row(v) for k, v in state.jobs.items()},
            state.deliveries,
            [row(i) for i in state.action_items],
            state.people,
            [row(c) for c in state.checklist],
        )

    return bool(rows(a) == rows(b))


class _Repo:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    @property
    def _state(self) -> State:
        return self._uow.state


class FakeIncidents(_Repo):
    def get(self, incident_id: int, *, for_update: bool = False) -> Incident | None:  # noqa: ARG002 - port keyword; a fake takes no locks
        return self._state.incidents.get(incident_id)

    def get_many(self, ids: Sequence[int]) -> Sequence[Incident]:
        return [self._state.incidents[i] for i in sorted(set(ids)) if i in self._state.incidents]

    def get_by_channel(self, channel_id: str, *, for_update: bool = False) -> Incident | None:  # noqa: ARG002 - same
        return next((i for i in self._state.incidents.values() if i.channel_id == channel_id), None)

    def list_open(self, limit: int = 50, *, include_private: bool = True) -> Sequence[Incident]:
        found = [
            i
            for i in self._state.incidents.values()
            if i.status != "resolved" and (include_private or not i.private)
        ]
        return sorted(found, key=lambda i: (i.declared_at, i.id), reverse=True)[:limit]

    def list_since(self, since: datetime | None = None) -> Sequence[Incident]:
        return [
            i for _, i in sorted(self._state.incidents.items()) if since is None or i.declared_at >= since
        ]

    def recent_open(
        self, since: datetime, limit: int, *, services: bool = True
    ) -> Sequence[DuplicateCandidate]:
        found = [
            i
            for i in self._state.incidents.values()
            if i.declared_at >= since and i.status != "resolved" and not i.private
        ]
        newest = sorted(found, key=lambda i: (i.declared_at, i.id), reverse=True)[:limit]
        return [
            DuplicateCandidate(
                i.id,
                i.title,
                i.status,
                i.private,
                i.drill,
                list(i.services) if services else [],
                i.declared_at,
            )
            for i in newest
        ]

    def insert_many(self, incidents: Sequence[Incident]) -> list[int]:
        for incident in incidents:
            incident.id = self._uow.db.next_id("incidents")
            self._state.incidents[incident.id] = incident
        return [i.id for i in incidents]

    def update_columns(self, incident_id: int, values: Mapping[str, Any]) -> None:
        incident = self._state.incidents[incident_id]
        for name, value in values.items():
            setattr(incident, name, value)

    def link_duplicates(self, links: Mapping[int, int]) -> None:
        for incident_id, other in links.items():
            self._state.incidents[incident_id].possible_duplicate_of = other

    def declares_since(self, people: Iterable[str], since: datetime) -> dict[str, tuple[int, datetime]]:
        wanted = set(people)
        found: dict[str, tuple[int, datetime]] = {}
        for incident in self._state.incidents.values():
            user = incident.declared_by
            if user in wanted and incident.declared_at > since:
                count, oldest = found.get(user, (0, incident.declared_at))
                found[user] = (count + 1, min(oldest, incident.declared_at))
        return found


class FakeTimeline(_Repo):
    def add(self, event: TimelineEvent) -> TimelineEvent:
        self._state.timeline.append(event)
        return event

    def insert_many(self, events: Sequence[TimelineEvent]) -> None:
        self._state.timeline.extend(events)
        self._uow.flush()

    def list_for(self, incident_id: int) -> Sequence[TimelineEvent]:
        found = [e for e in self._state.timeline if e.incident_id == incident_id]
        return sorted(found, key=lambda e: (e.occurred_at, e.id or 0))

    def latest(self, incident_id: int, kind: str) -> TimelineEvent | None:
        found = [e for e in self.list_for(incident_id) if e.kind == kind]
        return found[-1] if found else None

    def data_of(self, incident_id: int, kind: str) -> list[dict[str, Any]]:
        return [e.data or {} for e in self.list_for(incident_id) if e.kind == kind]

    def _pins(self, incident_id: int, ts: str) -> list[TimelineEvent]:
        return [
            e
            for e in self._state.timeline
            if e.incident_id == incident_id and e.kind == "pinned" and e.message_ts == ts
        ]

    def has_pin(self, incident_id: int, ts: str) -> bool:
        return bool(self._pins(incident_id, ts))

    def remove_pin(self, incident_id: int, ts: str) -> int:
        gone = self._pins(incident_id, ts)
        self._state.timeline = [e for e in self._state.timeline if e not in gone]
        return len(gone)


class FakePosts(_Repo):
    def get(self, incident_id: int, purpose: str) -> BotPost | None:
        return next(
            (p for p in self._state.posts if p.incident_id == incident_id and p.purpose == purpose), None
        )

    def list_for(self, incident_id: int) -> Sequence[BotPost]:
        return [p for p in self._state.posts if p.incident_id == incident_id]

    def insert_many(self, posts: Sequence[BotPost]) -> None:
        for post in posts:
            if self.get(post.incident_id, post.purpose) is not None:
                raise ValueError(f"a post for {post.purpose!r} is recorded already")  # the unique key
            post.id = self._uow.db.next_id("bot_posts")
            self._state.posts.append(post)


class FakeJobs(_Repo):
    def add(self, job: SlackJob) -> SlackJob:
        job.id = self._uow.db.next_id("slack_jobs")
        self._state.jobs[job.id] = job
        return job

    def insert_many(self, jobs: Sequence[SlackJob]) -> list[int]:
        return [self.add(job).id for job in jobs]

    def get(self, job_id: int) -> SlackJob | None:
        return self._state.jobs.get(job_id)

    def pending_for(self, incident_id: int) -> Sequence[SlackJob]:
        return [
            j for j in self._state.jobs.values() if j.incident_id == incident_id and j.finished_at is None
        ]

    def update_columns(self, job_id: int, values: Mapping[str, Any]) -> None:
        job = self._state.jobs[job_id]
        for name, value in values.items():
            setattr(job, name, value)

    def _claimable(self, job: SlackJob, now: datetime) -> bool:
        return (
            job.due_at is not None
            and job.due_at <= now
            and (job.claimed_until is None or job.claimed_until < now)
        )

    def _take(self, job: SlackJob, now: datetime, lease: timedelta) -> None:
        job.claimed_until, job.attempts = now + lease, job.attempts + 1

    def claim(self, job_id: int, now: datetime, lease: timedelta) -> bool:
        job = self._state.jobs.get(job_id)
        if job is None or not self._claimable(job, now):
            return False
        self._take(job, now, lease)
        return True

    def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[int]:
        due = sorted(
            (j for j in self._state.jobs.values() if self._claimable(j, now)),
            key=lambda j: (j.due_at, j.id),
        )[: max(limit, 0)]
        for job in due:
            self._take(job, now, lease)
        return sorted(j.id for j in due)

    def claim_deferred(self, job_id: int, now: datetime, lease: timedelta, attempts: int) -> bool:
        job = self._state.jobs.get(job_id)
        if job is None or job.finished_at is not None or job.claimed_until is not None:
            return False
        if job.attempts != attempts:  # claimed since it was deferred
            return False
        self._take(job, now, lease)
        return True

    def _held(self) -> list[SlackJob]:
        return [j for j in self._state.jobs.values() if j.finished_at is None and j.claimed_until is not None]

    def unclaim(self, job_id: int) -> None:
        job = self._state.jobs.get(job_id)
        if job is not None and job in self._held():
            job.claimed_until = None

    def renew(self, job_ids: Sequence[int], now: datetime, lease: timedelta) -> int:
        held = [j for j in self._held() if j.id in set(job_ids)]
        for job in held:
            job.claimed_until = now + lease
        return len(held)

    def release(self, now: datetime) -> int:
        held = self._held()
        for job in held:
            job.claimed_until, job.due_at = None, now
        return len(held)

    def next_claimable(self) -> datetime | None:
        owed = [
            max(j.due_at, j.claimed_until) if j.claimed_until is not None else j.due_at
            for j in self._state.jobs.values()
            if j.finished_at is None and j.due_at is not None
        ]
        return min(owed, default=None)


class FakeDeliveries(_Repo):
    def first_time(self, key: str, now: datetime) -> bool:
        if key in self._state.deliveries:
            return False
        self._state.deliveries[key] = now
        return True


class FakeActionItems(_Repo):
    def add(self, item: ActionItem) -> ActionItem:
        self._state.action_items.append(item)
        return item

    def list_for(self, incident_id: int) -> Sequence[ActionItem]:
        return [i for i in self._state.action_items if i.incident_id == incident_id]

    def get(self, item_id: int) -> ActionItem | None:
        return next((i for i in self._state.action_items if i.id == item_id), None)

    def mark_done(self, item_id: int, user_id: str, now: datetime) -> bool:
        item = self.get(item_id)
        if item is None or item.done_at is not None:
            return False
        item.done_at, item.done_by, item.remind_at = now, user_id, None
        return True

    def snooze(self, item_id: int, until: datetime) -> bool:
        item = self.get(item_id)
        if item is None or item.done_at is not None:
            return False
        item.remind_at = until
        return True

    def due_reminder_owners(self, now: datetime, limit: int) -> list[str]:
        due = [
            i
            for i in self._state.action_items
            if i.remind_at is not None and i.remind_at <= now and i.owner and i.done_at is None
        ]
        due.sort(key=lambda i: (i.remind_at, i.owner))
        return list(dict.fromkeys(str(i.owner) for i in due))[:limit]

    def claim_reminders(
        self, owners: Sequence[str], now: datetime, next_at: datetime
    ) -> Sequence[ActionItem]:
        claimed = [
            i
            for i in self._state.action_items
            if i.owner in owners and i.remind_at is not None and i.remind_at <= now and i.done_at is None
        ]
        for item in claimed:
            item.remind_at = next_at
        return sorted(claimed, key=lambda i: i.id)


class FakeChecklist(_Repo):
    def insert_many(self, items: Sequence[ChecklistItem]) -> None:
        for item in items:
            item.id = self._uow.db.next_id("checklist_items")
            self._state.checklist.append(item)

    def list_for(self, incident_id: int) -> Sequence[ChecklistItem]:
        found = [c for c in self._state.checklist if c.incident_id == incident_id]
        return sorted(found, key=lambda c: (c.position, c.id))


class FakePeople(_Repo):
    def names(self, user_ids: Iterable[str]) -> dict[str, str]:
        return {u: self._state.people[u] for u in set(user_ids) if u in self._state.people}

    def remember(self, names: Mapping[str, str]) -> None:
        self._state.people.update(names)


class FakeReminders(_Repo):
    def _due(self, now: datetime, limit: int, column: str) -> list[tuple[int, datetime]]:
        due = [(i.id, getattr(i, column)) for i in self._state.incidents.values()]
        due = [(i, at) for i, at in due if at is not None and at <= now]
        return sorted(due, key=lambda d: (d[1], d[0]))[:limit]

    def due_updates(self, now: datetime, limit: int) -> list[tuple[int, datetime]]:
        return self._due(now, limit, "next_update_due_at")

    def claim_updates(
        self, ids: Sequence[int], now: datetime, next_due: Mapping[str, datetime], fallback: datetime
    ) -> dict[int, int]:
        counts: dict[int, int] = {}
        for incident_id in ids:
            incident = self._state.incidents[incident_id]
            if incident.next_update_due_at is not None and incident.next_update_due_at <= now:
                incident.next_update_due_at = next_due.get(incident.severity, fallback)
                incident.reminders_since_update += 1
                counts[incident_id] = incident.reminders_since_update
        return counts

    def clear_update_due(self, ids: Sequence[int]) -> None:
        for incident_id in ids:
            self._state.incidents[incident_id].next_update_due_at = None

    def due_commander_checks(self, now: datetime, limit: int) -> list[tuple[int, datetime]]:
        return self._due(now, limit, "commander_due_at")

    def claim_commander_checks(self, ids: Sequence[int], now: datetime) -> set[int]:
        claimed = set()
        for incident_id in ids:
            incident = self._state.incidents[incident_id]
            if incident.commander_due_at is not None and incident.commander_due_at <= now:
                incident.commander_due_at = None
                claimed.add(incident_id)
        return claimed

    def claimed_incidents(self, ids: Sequence[int]) -> dict[int, ClaimedIncident]:
        found = [self._state.incidents[i] for i in set(ids) if i in self._state.incidents]
        return {
            i.id: ClaimedIncident(
                i.id, i.status, i.severity, i.declared_by, i.last_update_at, current_roles(i)
            )
            for i in found
        }


class FakeTimers(_Repo):
    """Stale nudges and archives: claimed only while due and in the right status, as the SQL claim does."""

    def _due(self, now: datetime, limit: int, column: str) -> list[tuple[int, datetime]]:
        due = [(i.id, getattr(i, column)) for i in self._state.incidents.values()]
        due = [(i, at) for i, at in due if at is not None and at <= now]
        return sorted(due, key=lambda d: (d[1], d[0]))[:limit]

    def due_stale(self, now: datetime, limit: int) -> list[tuple[int, datetime]]:
        return self._due(now, limit, "stale_due_at")

    def due_archives(self, now: datetime, limit: int) -> list[tuple[int, datetime]]:
        return self._due(now, limit, "archive_due_at")

    def claim_stale(
        self, ids: Sequence[int], now: datetime, next_due: Mapping[str, datetime], fallback: datetime
    ) -> set[int]:
        claimed = set()
        for incident_id in ids:
            incident = self._state.incidents[incident_id]
            due = incident.stale_due_at
            if due is not None and due <= now and incident.status != "resolved":
                incident.stale_due_at = next_due.get(incident.severity, fallback)
                claimed.add(incident_id)
        return claimed

    def claim_archives(self, ids: Sequence[int], now: datetime) -> set[int]:
        claimed = set()
        for incident_id in ids:
            incident = self._state.incidents[incident_id]
            due = incident.archive_due_at
            if due is not None and due <= now and incident.status == "resolved":
                incident.archive_due_at = None
                claimed.add(incident_id)
        return claimed

    def clear_unclaimed(self, stale: Sequence[int], archives: Sequence[int]) -> None:
        for incident_id in stale:
            if self._state.incidents[incident_id].status == "resolved":
                self._state.incidents[incident_id].stale_due_at = None
        for incident_id in archives:
            if self._state.incidents[incident_id].status != "resolved":
                self._state.incidents[incident_id].archive_due_at = None


class FakeTargets(_Repo):
    """Target moments: claimed only while the moment and what the decision read are unchanged, as in SQL."""

    def due(self, now: datetime, limit: int) -> list[TargetClock]:
        found = [i for i in self._state.incidents.values() if i.target_due_at and i.target_due_at <= now]
        found.sort(key=lambda i: (i.target_due_at, i.id))
        return [
            TargetClock(
                id=i.id,
                due=i.target_due_at,
                severity=i.severity,
                status=i.status,
                declared_at=i.declared_at,
                acknowledged_at=i.acknowledged_at,
                mitigated_at=i.mitigated_at,
            )
            for i in found[:limit]
            if i.target_due_at is not None
        ]

    def claim(self, clock: TargetClock, next_due: datetime | None) -> bool:
        incident = self._state.incidents[clock.id]
        unchanged = (
            incident.target_due_at == clock.due
            and incident.severity == clock.severity
            and (incident.status == "resolved") == (clock.status == "resolved")
            and (clock.acknowledged_at is not None or incident.acknowledged_at is None)
            and (clock.mitigated_at is not None or incident.mitigated_at is None)
        )
        if unchanged:
            incident.target_due_at = next_due
        return unchanged


class FakePages(_Repo):
    """Pages: a tier's timer is claimed only while due and open, as the SQL claim does."""

    def insert_many(self, pages: Sequence[Page]) -> None:
        for page in pages:
            page.id = self._uow.db.next_id("pages")
            self._state.pages.append(page)

    def get(self, page_id: int) -> Page | None:
        return next((p for p in self._state.pages if p.id == page_id), None)

    def list_for(self, incident_id: int) -> Sequence[Page]:
        return [p for p in self._state.pages if p.incident_id == incident_id]

    def run_of(self, incident_id: int, dedup_key: str, run: int) -> Sequence[Page]:
        return [
            p
            for p in self._state.pages
            if p.incident_id == incident_id and p.dedup_key == dedup_key and p.run == run
        ]

    def open_by_key(self, dedup_key: str) -> Sequence[Page]:
        return [p for p in self._state.pages if p.dedup_key == dedup_key and p.closed_at is None]

    def due(self, now: datetime, limit: int) -> list[tuple[int, datetime]]:
        due = [(p.id, p.ack_due_at) for p in self._state.pages if p.ack_due_at is not None]
        found = [(i, at) for i, at in due if at is not None and at <= now]
        return sorted(found, key=lambda d: (d[1], d[0]))[:limit]

    def claim(self, ids: Sequence[int], now: datetime) -> set[int]:
        claimed = set()
        for page in (p for p in self._state.pages if p.id in ids):
            due = page.ack_due_at
            if page.closed_at is None and due is not None and due <= now:
                claimed.add(page.id)
                page.ack_due_at = None
            elif page.closed_at is not None:
                page.ack_due_at = None
        return claimed

    def _close(self, rows: Iterable[Page], now: datetime) -> int:
        count = 0
        for page in rows:
            if page.closed_at is None:
                page.closed_at, page.ack_due_at = now, None
                count += 1
        return count

    def close_run(self, incident_id: int, dedup_key: str, run: int, now: datetime) -> int:
        return self._close(self.run_of(incident_id, dedup_key, run), now)

    def close_incident(self, incident_id: int, now: datetime) -> int:
        return self._close(self.list_for(incident_id), now)


class FakeAlertGroups(_Repo):
    def lock(self, source: str, group_key: str) -> AlertGroupState | None:
        return self._state.alert_groups.get((source, group_key))

    def claim(self, source: str, group_key: str, now: datetime) -> bool:
        del now  # the fake keeps no times
        if (source, group_key) in self._state.alert_groups:
            return False
        self._state.alert_groups[(source, group_key)] = AlertGroupState(None, {})
        return True

    def save(self, source: str, group_key: str, state: AlertGroupState, now: datetime) -> None:
        del now
        self._state.alert_groups[(source, group_key)] = AlertGroupState(state.incident_id, dict(state.firing))


class FakePostmortems(_Repo):
    """Postmortem timers claimed only while due and in the right state, as the SQL claims are; versions."""

    def _due(self, now: datetime, limit: int, column: str) -> list[tuple[int, datetime]]:
        due = [(i.id, getattr(i, column)) for i in self._state.incidents.values()]
        due = [(i, at) for i, at in due if at is not None and at <= now]
        return sorted(due, key=lambda d: (d[1], d[0]))[:limit]

    def due_reminders(self, now: datetime, limit: int) -> list[tuple[int, datetime]]:
        return self._due(now, limit, "postmortem_due_at")

    def due_refreshes(self, now: datetime, limit: int) -> list[tuple[int, datetime]]:
        return self._due(now, limit, "postmortem_refresh_at")

    def claim_reminders(self, ids: Sequence[int], now: datetime) -> set[int]:
        claimed = set()
        for incident_id in ids:
            incident = self._state.incidents[incident_id]
            due = incident.postmortem_due_at
            draft = incident.postmortem_status in (None, "draft")
            if due is not None and due <= now and incident.status == "resolved" and draft:
                incident.postmortem_due_at = None
                claimed.add(incident_id)
        return claimed

    def claim_refreshes(self, ids: Sequence[int], now: datetime, next_at: datetime) -> set[int]:
        claimed = set()
        for incident_id in ids:
            incident = self._state.incidents[incident_id]
            due = incident.postmortem_refresh_at
            unpublished = incident.postmortem_status != "published"
            if due is not None and due <= now and incident.status == "resolved" and unpublished:
                incident.postmortem_refresh_at = next_at
                claimed.add(incident_id)
        return claimed

    def clear_unclaimed(self, reminders: Sequence[int], refreshes: Sequence[int]) -> None:
        for incident_id in reminders:
            incident = self._state.incidents[incident_id]
            if incident.status != "resolved" or incident.postmortem_status not in (None, "draft"):
                incident.postmortem_due_at = None
        for incident_id in refreshes:
            incident = self._state.incidents[incident_id]
            if incident.status != "resolved" or incident.postmortem_status == "published":
                incident.postmortem_refresh_at = None

    def overdue(self, resolved_before: datetime, limit: int) -> Sequence[Incident]:
        found = [
            i
            for i in self._state.incidents.values()
            if i.status == "resolved"
            and i.resolved_at is not None
            and i.resolved_at < resolved_before
            and not i.drill
            and i.duplicate_of is None
            and i.postmortem_status != "published"
        ]
        return sorted(found, key=lambda i: (i.resolved_at or resolved_before, i.id))[:limit]

    def add_version(self, version: DraftVersion) -> None:
        taken = {(v.incident_id, v.version) for v in self._state.versions}
        assert (version.incident_id, version.version) not in taken, "the primary key is unique"
        assert all(v.job_id != version.job_id for v in self._state.versions), "job_id is unique"
        self._state.versions.append(version)

    def version_for_job(self, job_id: int) -> DraftVersion | None:
        return next((clone(v) for v in self._state.versions if v.job_id == job_id), None)

    def latest_version(self, incident_id: int) -> DraftVersion | None:
        mine = [v for v in self._state.versions if v.incident_id == incident_id]
        return clone(max(mine, key=lambda v: v.version)) if mine else None

    def version(self, incident_id: int, number: int) -> DraftVersion | None:
        return next(
            (clone(v) for v in self._state.versions if (v.incident_id, v.version) == (incident_id, number)),
            None,
        )


class DuplicateKey(Exception):
    """What the SQL store's IntegrityError is to the fakes: a unique key already taken."""


class FakePublications(_Repo):
    """Published versions, one per (incident, version) as the SQL primary key has it."""

    def get(self, incident_id: int, version: int) -> Publication | None:
        found = [p for p in self._state.publications if (p.incident_id, p.version) == (incident_id, version)]
        return clone(found[0]) if found else None

    def first(self, incident_id: int) -> Publication | None:
        mine = [p for p in self._state.publications if p.incident_id == incident_id]
        return clone(min(mine, key=lambda p: p.version)) if mine else None

    def add(self, publication: Publication) -> None:
        if self.get(publication.incident_id, publication.version) is not None:
            raise DuplicateKey("the primary key is unique")
        self._state.publications.append(publication)


class FakeUnitOfWork:
    """One transaction over a FakeDatabase: a copy of its state, committed or discarded as a whole."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self.state = State()
        self.incidents = FakeIncidents(self)
        self.timeline = FakeTimeline(self)
        self.posts = FakePosts(self)
        self.jobs = FakeJobs(self)
        self.deliveries = FakeDeliveries(self)
        self.action_items = FakeActionItems(self)
        self.people = FakePeople(self)
        self.reminders = FakeReminders(self)
        self.checklist = FakeChecklist(self)
        self.timers = FakeTimers(self)
        self.targets = FakeTargets(self)
        self.pages = FakePages(self)
        self.alert_groups = FakeAlertGroups(self)
        self.postmortems = FakePostmortems(self)
        self.publications = FakePublications(self)
        self._open = False

    def __enter__(self) -> FakeUnitOfWork:
        assert not self._open, "a unit of work is entered once"
        self._open = True
        self.state = self.db.committed.copy()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._open = False
        self.state = State()  # whatever was not committed is gone

    def flush(self) -> None:
        for incident in self.state.incidents.values():
            for role in incident.roles:
                if role.id is None:
                    role.id = self.db.next_id("role_assignments")
                role.incident_id = incident.id
        for event in self.state.timeline:
            if event.id is None:
                event.id = self.db.next_id("timeline_events")
        for item in self.state.action_items:
            if item.id is None:
                item.id = self.db.next_id("action_items")

    def commit(self) -> None:
        assert self._open, "commit inside the with block"
        self.flush()
        self._check_references()
        self.db.committed = self.state.copy()
        self.db.commits += 1

    def _check_references(self) -> None:
        """Rows point at incidents that exist, as the foreign keys insist."""
        known = set(self.state.incidents)
        rows: list[Any] = [*self.state.timeline, *self.state.posts, *self.state.jobs.values()]
        rows += self.state.action_items
        rows += self.state.checklist
        rows += self.state.pages
        dangling = [r for r in rows if r.incident_id not in known]
        assert not dangling, f"rows of unknown incidents: {dangling}"


if TYPE_CHECKING:  # `mypy tests/unit/fakes.py` holds the fake to the port the SQL store satisfies
    _unit: UnitOfWork = FakeUnitOfWork(FakeDatabase())
    _factory: UnitOfWorkFactory = FakeDatabase()


@dataclass
class RecordingPager:
    """An in-memory pager (the Pager port): records each call; `down` makes it fail, `refuse` refuse."""

    calls: list[tuple[str, str, str]] = field(default_factory=list)  # (verb, target, dedup key)
    triggered: list[dict[str, Any]] = field(default_factory=list)
    down: bool = False
    refuse: dict[str, str] = field(default_factory=dict)  # target -> reason

    def _call(self, verb: str, target: str, dedup_key: str) -> None:
        from commands.pager import PagerError, PagerRefused

        if target in self.refuse:
            raise PagerRefused(self.refuse[target])
        if self.down:
            raise PagerError("503")
        self.calls.append((verb, target, dedup_key))

    def trigger(
        self, target: str, dedup_key: str, summary: str, *, priority: int, details: Mapping[str, str]
    ) -> None:
        self._call("trigger", target, dedup_key)
        self.triggered.append({"target": target, "summary": summary, "priority": priority, **details})

    def acknowledge(self, target: str, dedup_key: str) -> None:
        self._call("acknowledge", target, dedup_key)

    def resolve(self, target: str, dedup_key: str) -> None:
        self._call("resolve", target, dedup_key)


if TYPE_CHECKING:
    from commands.pager import Pager

    _pager: Pager = RecordingPager()
