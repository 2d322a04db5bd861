"""The ports the incident actions run over: a clock, a chat, a presenter, the settings and the store."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Protocol

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
    SlackJob,
    TimelineEvent,
)
from commands.views import ChecklistLine, IncidentView


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time as timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class Message:
    """A chat message as the actions see it: fallback text, optional blocks, and metadata for other tools."""

    text: str
    event_type: str
    event_payload: dict[str, Any] = field(default_factory=dict)
    blocks: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class ChatMessage:
    """Someone's message as Slack has it now: author, text, and who reacted with what."""

    author: str | None
    text: str
    reactions: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class PostRef:
    """Where a posted message landed: the channel id (even when posted by name) and its ts."""

    channel: str
    ts: str


@dataclass(frozen=True)
class FileRef:
    """A file the bot shared: the channel it went to, Slack's file id, and the link people open."""

    channel: str
    file_id: str
    permalink: str


class Chat(Protocol):
    """What the bot needs from Slack, as verbs."""

    def create_channel(self, name: str, *, private: bool) -> str:
        """Create a channel and return its id; raise NameTaken when the name is in use."""
        ...

    def find_own_channel(self, name: str) -> str | None:
        """Return the id of a channel with this name that the bot itself created (crash recovery)."""
        ...

    def invite(self, channel: str, users: Sequence[str]) -> None: ...

    def members(self, channel: str) -> list[str]:
        """The people in a channel (every page), the bot itself left out."""

    def invite_each(self, channel: str, users: Sequence[str]) -> dict[str, str]:
        """Invite whoever can be; return the others Slack refused, with why (those already in are not)."""
        ...

    def set_topic(self, channel: str, topic: str) -> None: ...

    def post(self, channel: str, message: Message) -> PostRef:
        """Post and return where it landed; raise ChannelNotFound for an unknown channel."""
        ...

    def find_post(
        self, channel: str, event_type: str, incident_id: int, oldest: datetime, key: object = None
    ) -> str | None:
        """Return the ts of a bot post carrying this metadata (crash recovery), else None."""
        ...

    def find_direct_message(
        self, user: str, event_type: str, incident_id: int, oldest: datetime, key: object
    ) -> PostRef | None:
        """Where a DM carrying this metadata already is (crash or timeout recovery), else None."""
        ...

    def message(self, channel: str, ts: str) -> ChatMessage | None:
        """A message (top-level or in a thread) as it is now, or None when it is gone."""
        ...

    def permalink(self, channel: str, ts: str) -> str | None: ...

    def update(self, channel: str, ts: str, message: Message) -> None: ...

    def pin(self, channel: str, ts: str) -> None: ...

    def notify(self, channel: str, user: str, text: str) -> None:
        """Show one person a message only they can see (ephemeral)."""
        ...

    def direct_message(self, user: str, message: Message) -> PostRef:
        """Write to one person in their direct-message channel with the bot."""
        ...

    def group_members(self, group_id: str) -> list[str]:
        """The members of a user group; raise UnknownTarget when it does not exist."""
        ...

    def user_exists(self, user_id: str) -> bool: ...

    def user_name(self, user_id: str) -> str | None:
        """The name people know the user by; None when Slack cannot say (the caller shows the id)."""
        ...

    def upload_file(
        self, channel: str, filename: str, content: bytes, title: str, message: Message
    ) -> FileRef:
        """Share a file in a channel with `message.text` as its comment (Slack's external upload flow)."""
        ...

    def find_file(self, channel: str, filename: str, size: int, oldest: datetime) -> FileRef | None:
        """Return a file of this name and size the bot shared here since `oldest` (crash recovery)."""
        ...

    def rename_channel(self, channel: str, name: str) -> str:
        """Rename a channel and return the name Slack stored; raise NameTaken when the name is in use."""
        ...

    def archive(self, channel: str) -> None:
        """Archive a channel; one archived already counts as done."""
        ...


class Presenter(Protocol):
    """Turns incident state into messages; implemented with templates outside the domain."""

    def topic(self, incident: IncidentView) -> str: ...

    def summary(self, incident: IncidentView) -> Message: ...

    def announcement(self, incident: IncidentView) -> Message: ...

    def resolution(self, incident: IncidentView) -> Message: ...

    def resolution_announcement(self, incident: IncidentView) -> Message: ...

    def status_reply(self, incident: IncidentView) -> str: ...

    def list_reply(self, incidents: Sequence[IncidentView]) -> str: ...

    def update(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...

    def update_announcement(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...

    def escalation(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...

    def escalation_announcement(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...

    def briefing(self, incident: IncidentView, role: str, description: str) -> Message: ...

    def role_assigned(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...

    def page(self, incident: IncidentView, paged_by: str) -> Message: ...

    def edited(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...

    def reopened(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...

    def reopen_announcement(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...

    def duplicate(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...

    def duplicate_announcement(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...

    def checklist(self, incident: IncidentView, items: Sequence[ChecklistLine]) -> Message: ...
    def invite_problems(self, incident: IncidentView, problems: dict[str, Any]) -> Message:
        """Who the type's and services' invites missed: user groups that don't exist, people Slack refused."""
        ...

    def announce_failed(self, incident: IncidentView, channel: str, what: str, key: str) -> Message:
        """The room hears that stakeholders were not told, and which setting to fix."""
        ...

    def when(self, moment: datetime) -> str:
        """A time as people in the configured zone read it."""
        ...


@dataclass(frozen=True)
class PolicyTier:
    """Who one tier of an escalation policy pages, and how long they have to acknowledge."""

    notify: tuple[str, ...]  # member IDs, user-group IDs, "pagerduty:<name>", "opsgenie:<name>"
    ack_within: timedelta


@dataclass(frozen=True)
class EscalationPolicy:
    """Tiers paged in order until someone acknowledges; then `repeat` more rounds from the first tier."""

    name: str
    tiers: tuple[PolicyTier, ...]
    repeat: int = 0


class IncidentSettings(Protocol):
    """The parts of the operator's config the actions read."""

    announce_channel: str
    channel_prefix: str
    archive_after: timedelta  # a resolved incident's room is archived this long after it was resolved

    def severity_names(self) -> list[str]: ...

    def severity_description(self, name: str) -> str: ...

    def update_every(self, severity: str) -> timedelta: ...

    def commander_timeout(self, severity: str) -> timedelta: ...

    def stale_after(self, severity: str) -> timedelta: ...

    def targets(self, severity: str) -> dict[str, timedelta]:
        """The milestone targets the severity sets (acknowledge_within, mitigate_within, resolve_within)."""
        ...

    def role_description(self, role: str) -> str: ...

    def allowed_to(self, action: str) -> list[str]: ...

    # Triage: drill rooms' prefix, and who a type's and services' incidents invite.
    drill_prefix: str

    def invitees(self, incident_type: str | None, services: Sequence[str]) -> list[str]: ...

    # Paging: how long a person paged directly has to acknowledge, the policies, a severity's policy.
    page_ack_within: timedelta

    def policy_names(self) -> list[str]: ...

    def escalation_policy(self, name: str) -> EscalationPolicy | None: ...

    def severity_page(self, severity: str) -> str | None:
        """The policy a severity pages automatically, if any."""
        ...


class IncidentStore(Protocol):
    """Incidents (with their role assignments) by number or war room."""

    def get(self, incident_id: int, *, for_update: bool = False) -> Incident | None: ...

    def get_many(self, ids: Sequence[int]) -> Sequence[Incident]: ...

    def get_by_channel(self, channel_id: str, *, for_update: bool = False) -> Incident | None:
        """With `for_update`, later writers of the same incident wait until this transaction ends."""
        ...

    def list_open(self, limit: int = 50, *, include_private: bool = True) -> Sequence[Incident]: ...

    def list_since(self, since: datetime | None = None) -> Sequence[Incident]: ...

    def recent_open(
        self, since: datetime, limit: int, *, services: bool = True
    ) -> Sequence[DuplicateCandidate]:
        """Open, public incidents declared at or after `since`, newest first, at most `limit`: one indexed
        read, for possible duplicates."""
        ...

    def insert_many(self, incidents: Sequence[Incident]) -> list[int]:
        """Insert new incidents at once; returns their ids in order, also set on them."""
        ...

    def update_columns(self, incident_id: int, values: Mapping[str, Any]) -> None:
        """Set these columns of one incident, without reading it."""
        ...

    def link_duplicates(self, links: Mapping[int, int]) -> None:
        """Point each incident (key) at the one it may duplicate (value): one statement for them all."""
        ...

    def declares_since(self, people: Iterable[str], since: datetime) -> dict[str, tuple[int, datetime]]:
        """Person -> (declares after `since`, the oldest's time), counted once every other transaction
        counting the same people has ended, so two replicas cannot both admit one declare too many."""
        ...


class TimelineStore(Protocol):
    def add(self, event: TimelineEvent) -> TimelineEvent:
        """Record an event; its id is known after the next flush."""
        ...

    def insert_many(self, events: Sequence[TimelineEvent]) -> None: ...

    def list_for(self, incident_id: int) -> Sequence[TimelineEvent]: ...

    def latest(self, incident_id: int, kind: str) -> TimelineEvent | None: ...

    def data_of(self, incident_id: int, kind: str) -> list[dict[str, Any]]:
        """The `data` of every event of this kind, oldest first."""
        ...

    def has_pin(self, incident_id: int, ts: str) -> bool: ...

    def remove_pin(self, incident_id: int, ts: str) -> int: ...


class PostStore(Protocol):
    def get(self, incident_id: int, purpose: str) -> BotPost | None: ...

    def list_for(self, incident_id: int) -> Sequence[BotPost]: ...

    def insert_many(self, posts: Sequence[BotPost]) -> None: ...


class JobStore(Protocol):
    """Durable Slack jobs and their claims (a claim is a lease held by one process)."""

    def add(self, job: SlackJob) -> SlackJob:
        """Record a job and learn its id at once."""
        ...

    def insert_many(self, jobs: Sequence[SlackJob]) -> list[int]: ...

    def get(self, job_id: int) -> SlackJob | None: ...

    def pending_for(self, incident_id: int) -> Sequence[SlackJob]: ...

    def update_columns(self, job_id: int, values: Mapping[str, Any]) -> None:
        """Set these columns of one job, without reading it."""
        ...

    def claim(self, job_id: int, now: datetime, lease: timedelta) -> bool: ...

    def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[int]: ...

    def claim_deferred(self, job_id: int, now: datetime, lease: timedelta, attempts: int) -> bool: ...

    def unclaim(self, job_id: int) -> None: ...

    def renew(self, job_ids: Sequence[int], now: datetime, lease: timedelta) -> int: ...

    def release(self, now: datetime) -> int: ...

    def next_claimable(self) -> datetime | None: ...


class DeliveryStore(Protocol):
    def first_time(self, key: str, now: datetime) -> bool:
        """Record a delivery; False when it was recorded before (by any transaction that committed)."""
        ...


class ActionItemStore(Protocol):
    def add(self, item: ActionItem) -> ActionItem: ...

    def list_for(self, incident_id: int) -> Sequence[ActionItem]: ...

    def get(self, item_id: int) -> ActionItem | None: ...

    def mark_done(self, item_id: int, user_id: str, now: datetime) -> bool:
        """Record who finished an open item; False when it was done already (by anyone, even just now)."""
        ...

    def snooze(self, item_id: int, until: datetime) -> bool:
        """Leave an open item out of its owner's reminders until `until`; False when it is done."""
        ...

    def due_reminder_owners(self, now: datetime, limit: int) -> list[str]: ...

    def claim_reminders(
        self, owners: Sequence[str], now: datetime, next_at: datetime
    ) -> Sequence[ActionItem]:
        """Claim these owners' open items whose reminder is due, moving each to `next_at`; once per slot."""
        ...


class ChecklistStore(Protocol):
    def insert_many(self, items: Sequence[ChecklistItem]) -> None: ...

    def list_for(self, incident_id: int) -> Sequence[ChecklistItem]:
        """The incident's items in position order; changes to them are saved with the transaction."""
        ...


class PeopleStore(Protocol):
    def names(self, user_ids: Iterable[str]) -> dict[str, str]: ...

    def remember(self, names: Mapping[str, str]) -> None: ...


class ReminderStore(Protocol):
    """Due reminder work, claimed once across replicas: a claimed due time is no longer due."""

    def due_updates(self, now: datetime, limit: int) -> list[tuple[int, datetime]]: ...

    def claim_updates(
        self, ids: Sequence[int], now: datetime, next_due: Mapping[str, datetime], fallback: datetime
    ) -> dict[int, int]: ...

    def clear_update_due(self, ids: Sequence[int]) -> None: ...

    def due_commander_checks(self, now: datetime, limit: int) -> list[tuple[int, datetime]]: ...

    def claim_commander_checks(self, ids: Sequence[int], now: datetime) -> set[int]: ...

    def claimed_incidents(self, ids: Sequence[int]) -> dict[int, ClaimedIncident]:
        """The incidents among `ids` with what their reminders say, in two reads whatever their number."""
        ...


class TimerStore(Protocol):
    """Due lifecycle timers (stale nudges, room archiving), claimed once across replicas like reminders."""

    def due_stale(self, now: datetime, limit: int) -> list[tuple[int, datetime]]: ...

    def claim_stale(
        self, ids: Sequence[int], now: datetime, next_due: Mapping[str, datetime], fallback: datetime
    ) -> set[int]:
        """Claim the open incidents among `ids` still due, moving each to its severity's next due time."""
        ...

    def due_archives(self, now: datetime, limit: int) -> list[tuple[int, datetime]]: ...

    def claim_archives(self, ids: Sequence[int], now: datetime) -> set[int]:
        """Claim the resolved incidents among `ids` still due (each once); a reopened one is not claimed."""
        ...

    def clear_unclaimed(self, stale: Sequence[int], archives: Sequence[int]) -> None:
        """Forget due times that must not fire (a resolved incident's nudge, a reopened one's archive)."""
        ...


@dataclass(frozen=True)
class TargetClock:
    """What the target tick decides on for one due incident: read together, claimed only if unchanged."""

    id: int
    due: datetime  # target_due_at as read: every moment before it has been dealt with
    severity: str
    status: str
    declared_at: datetime
    acknowledged_at: datetime | None
    mitigated_at: datetime | None


class TargetStore(Protocol):
    """Due target moments (80% warnings, breaches), claimed once across replicas."""

    def due(self, now: datetime, limit: int) -> list[TargetClock]: ...

    def claim(self, clock: TargetClock, next_due: datetime | None) -> bool:
        """Move the incident's due moment to `next_due` if nothing the decision read has changed since."""


class PageStore(Protocol):
    """Pages; the tier being waited on is claimed once across replicas when its acknowledgement is late."""

    def insert_many(self, pages: Sequence[Page]) -> None:
        """Insert pages at once; their ids are set on them."""
        ...

    def get(self, page_id: int) -> Page | None: ...

    def list_for(self, incident_id: int) -> Sequence[Page]:
        """Every page of an incident, oldest first."""
        ...

    def run_of(self, incident_id: int, dedup_key: str, run: int) -> Sequence[Page]:
        """The pages of one run, oldest first; changes to them are saved with the transaction."""
        ...

    def open_by_key(self, dedup_key: str) -> Sequence[Page]:
        """The open pages carrying this dedup key (a pager's acknowledgement names only the key)."""
        ...

    def due(self, now: datetime, limit: int) -> list[tuple[int, datetime]]:
        """(page id, due time) of the open tiers whose acknowledgement is late: one indexed read."""
        ...

    def claim(self, ids: Sequence[int], now: datetime) -> set[int]:
        """Claim the late tiers among `ids` still open and due, each once (their timer is cleared)."""
        ...

    def close_run(self, incident_id: int, dedup_key: str, run: int, now: datetime) -> int:
        """Stop a run: its open pages are closed and their timers cleared; returns how many."""
        ...

    def close_incident(self, incident_id: int, now: datetime) -> int:
        """Stop every open page of an incident (it is resolved); returns how many."""
        ...


class AlertGroupStore(Protocol):
    """Alert groups by source and group key: which incident each one declared, and what fires in it."""

    def lock(self, source: str, group_key: str) -> AlertGroupState | None:
        """Serialise deliveries of this group until commit, then read it (None: never seen)."""
        ...

    def claim(self, source: str, group_key: str, now: datetime) -> bool:
        """Insert the group without an incident; False when another transaction already has it."""
        ...

    def save(self, source: str, group_key: str, state: AlertGroupState, now: datetime) -> None: ...


class PostmortemStore(Protocol):
    """Postmortem timers (the owner's reminder, the daily refresh), claimed once, and uploaded versions."""

    def due_reminders(self, now: datetime, limit: int) -> list[tuple[int, datetime]]: ...

    def claim_reminders(self, ids: Sequence[int], now: datetime) -> set[int]:
        """Claim the resolved incidents among `ids` whose postmortem is still a draft and due (each once)."""
        ...

    def due_refreshes(self, now: datetime, limit: int) -> list[tuple[int, datetime]]: ...

    def claim_refreshes(self, ids: Sequence[int], now: datetime, next_at: datetime) -> set[int]:
        """Claim the unpublished postmortems among `ids` still due, moving each to `next_at`."""
        ...

    def clear_unclaimed(self, reminders: Sequence[int], refreshes: Sequence[int]) -> None:
        """Forget timers that must not fire: a reopened or no longer draft one's reminder, a published one's
        refresh."""
        ...

    def overdue(self, resolved_before: datetime, limit: int) -> Sequence[Incident]:
        """Resolved before `resolved_before` with a postmortem not yet published, oldest first."""
        ...

    def add_version(self, version: DraftVersion) -> None: ...

    def version_for_job(self, job_id: int) -> DraftVersion | None: ...

    def latest_version(self, incident_id: int) -> DraftVersion | None: ...

    def version(self, incident_id: int, number: int) -> DraftVersion | None: ...


class UnitOfWork(Protocol):
    """One transaction: what is not committed when the `with` block ends is undone."""

    @property
    def incidents(self) -> IncidentStore: ...

    @property
    def timeline(self) -> TimelineStore: ...

    @property
    def posts(self) -> PostStore: ...

    @property
    def jobs(self) -> JobStore: ...

    @property
    def deliveries(self) -> DeliveryStore: ...

    @property
    def action_items(self) -> ActionItemStore: ...

    @property
    def people(self) -> PeopleStore: ...

    @property
    def checklist(self) -> ChecklistStore: ...

    @property
    def reminders(self) -> ReminderStore: ...

    @property
    def timers(self) -> TimerStore: ...

    @property
    def targets(self) -> TargetStore: ...

    @property
    def pages(self) -> PageStore: ...

    @property
    def alert_groups(self) -> AlertGroupStore: ...

    @property
    def postmortems(self) -> PostmortemStore: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self, _exc_type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...

    def flush(self) -> None:
        """Assign ids to what was added, without committing."""
        ...


class UnitOfWorkFactory(Protocol):
    """Each call is a fresh unit of work."""

    def __call__(self) -> UnitOfWork: ...
