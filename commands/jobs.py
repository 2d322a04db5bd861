"""Durable Slack side effects: a job lists its steps, whose results are recorded once; see job_runner."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from commands.pager import NoPager, Pager
from commands.ports import Chat, Clock, IncidentSettings, PostRef, Presenter, UnitOfWork
from commands.publisher import NoPublisher, Publisher
from commands.records import SlackJob
from commands.tracker import NoTracker, Tracker
from commands.views import IncidentView

log = logging.getLogger(__name__)

# The incident whose Slack work this thread is doing, so each Slack error's log line can name it.
current_incident: ContextVar[str | None] = ContextVar("current_incident", default=None)

MAX_ATTEMPTS = 25
MAX_BACKOFF = timedelta(minutes=5)


class JobKind(StrEnum):
    """What a job does: the value stored in slack_jobs.kind, which picks its plan."""

    PROVISION = "provision"
    RESOLVE = "resolve"
    ASSIGN = "assign"
    UPDATE = "update"
    ESCALATE = "escalate"
    REMINDER = "reminder"
    COMMANDER_REMINDER = "commander_reminder"
    CAPTURE = "capture"
    POSTMORTEM = "postmortem"
    JOIN = "join"  # a paged person pressed *Join war room*
    EDIT = "edit"
    REOPEN = "reopen"
    DUPLICATE = "duplicate"  # resolved as a duplicate: point the room to the other and invite its members
    CHECKLIST = "checklist"  # a checklist item ticked or unticked: the checklist message shows it
    STALE = "stale"  # nobody acted on an open incident for its `stale_after`: nudge the room
    ARCHIVE = "archive"  # `archive_after` after resolving: tell the room, archive it
    TARGET_WARNING = "target_warning"  # 80% of a severity target has gone by: say how long is left
    TARGET_BREACHED = "target_breached"  # a severity target was missed: say by how much
    ACTION_ITEM = "action_item"  # an action item recorded: the room sees it, with owner, due and priority
    ACTION_LIST = "action_list"  # `/incident actions` posted, or a *Done* click shown on the list
    ACTION_REMINDER = "action_reminder"  # an owner's weekly DM of overdue items (anchored to one of them)
    TRACKER_ISSUE = "tracker_issue"  # an action item's issue in the tracker, then its link in the room
    TRACKER_CHECK = "tracker_check"  # whether a linked issue was closed: then the item is done
    PAGE = "page"  # a tier paged (DMs, pager alerts, the room told), or the room told nobody answered
    PAGE_ACK = "page_ack"  # a page acknowledged: the room told, the DMs updated, the pager alerts acked
    PAGE_RESOLVE = "page_resolve"  # the incident resolved: its pager alerts are resolved
    MITIGATED = "mitigated"  # `/incident mitigated`: the room is told the impact has stopped
    POSTMORTEM_SET = "postmortem_set"  # the postmortem's owner, status or review day: the room sees it
    POSTMORTEM_REMINDER = "postmortem_reminder"  # the owner's DM: the postmortem is still a draft when due
    PUBLISH = "postmortem_publish"  # a published postmortem's version committed, then linked in the room


@dataclass(frozen=True)
class StepOutcome:
    """What a finished step changed: incident columns, posts to remember, timeline lines."""

    incident: dict[str, Any] = field(default_factory=dict)
    post: tuple[str, PostRef] | None = None
    events: list[tuple[str, str]] = field(default_factory=list)
    more_posts: tuple[tuple[str, PostRef], ...] = ()

    def all_posts(self) -> list[tuple[str, PostRef]]:
        return ([self.post] if self.post else []) + list(self.more_posts)

    @property
    def durable(self) -> bool:
        """Whether it holds something others need at once (the room's channel, a post's ts)."""
        return bool(self.incident or self.post or self.more_posts)


class GiveUp(Exception):
    """A step that can never succeed (its room was never created): stop the job and say why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PartialProgress(Exception):
    """A fan-out step failed part-way: record what it did so the retry skips those, then retry."""

    def __init__(self, outcome: StepOutcome, cause: Exception) -> None:
        super().__init__(str(cause))
        self.outcome = outcome
        self.cause = cause


@dataclass(frozen=True)
class StepContext:
    job_id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    done: tuple[str, ...]
    incident: IncidentView
    posts: dict[str, PostRef]
    chat: Chat
    presenter: Presenter
    settings: IncidentSettings
    clock: Clock
    pager: Pager = field(default_factory=NoPager)
    tracker: Tracker = field(default_factory=NoTracker)
    publisher: Publisher = field(default_factory=NoPublisher)

    @property
    def recovering(self) -> bool:
        """True when an earlier attempt may have acted on Slack without recording it."""
        return self.attempts > 1

    def after(self, outcome: StepOutcome) -> StepContext:
        shown = {k: v for k, v in outcome.incident.items() if k in _VIEW_FIELDS}
        incident = replace(self.incident, **shown) if shown else self.incident
        posts = {**self.posts, **dict(outcome.all_posts())}
        return replace(self, incident=incident, posts=posts)


_VIEW_FIELDS = {f.name for f in fields(IncidentView)}

Step = Callable[[StepContext], StepOutcome]


@dataclass(frozen=True)
class Chain:
    """Steps that run in order on one lane of a stage, without waiting for the stage's other lanes."""

    steps: tuple[tuple[str, Step], ...]

    def __init__(self, *steps: tuple[str, Step]) -> None:
        object.__setattr__(self, "steps", tuple(steps))


@dataclass(frozen=True)
class Parallel:
    """Steps (or chains of steps) that depend on nothing but what came before: run at once."""

    steps: tuple[tuple[str, Step] | Chain, ...]

    def __init__(self, *steps: tuple[str, Step] | Chain) -> None:
        object.__setattr__(self, "steps", tuple(steps))


Plan = list[tuple[str, Step] | Parallel]
Lane = tuple[tuple[str, Step], ...]


def stages(plan: Plan) -> list[tuple[Lane, ...]]:
    """The plan as stages of lanes: a stage's lanes run at once, a lane's steps one after another."""
    return [
        tuple(item.steps if isinstance(item, Chain) else (item,) for item in entry.steps)
        if isinstance(entry, Parallel)
        else ((entry,),)
        for entry in plan
    ]


def merge(outcomes: list[StepOutcome]) -> StepOutcome:
    """Fold step outcomes (in plan order) into one record."""
    columns: dict[str, Any] = {}
    posts: list[tuple[str, PostRef]] = []
    events: list[tuple[str, str]] = []
    for outcome in outcomes:
        columns.update(outcome.incident)
        posts += outcome.all_posts()
        events += outcome.events
    return StepOutcome(incident=columns, events=events, more_posts=tuple(posts))


def backoff(attempts: int) -> timedelta:
    """Wait 1, 2, 4 ... seconds between attempts, capped at five minutes."""
    return min(timedelta(seconds=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def new_job(
    kind: JobKind, incident_id: int, now: datetime, lease: timedelta, payload: dict[str, Any] | None = None
) -> SlackJob:
    """A job due now and already claimed by the process that records it, which runs it straight away."""
    return SlackJob(
        kind=kind,
        incident_id=incident_id,
        payload=payload or {},
        done_steps=[],
        attempts=1,
        due_at=now,
        claimed_until=now + lease,
        created_at=now,
    )


# Reminder posts (and a paged person's invite) change nothing other jobs show, and nothing they show is
# changed by other jobs: they wait
# only for the room to exist, so a reminder is never held up behind a crashed process's lease.
_INDEPENDENT = frozenset(
    {
        JobKind.REMINDER,
        JobKind.COMMANDER_REMINDER,
        JobKind.CAPTURE,
        JobKind.JOIN,
        JobKind.STALE,
        JobKind.ACTION_REMINDER,
    }
    | {JobKind.TARGET_WARNING, JobKind.TARGET_BREACHED}
    | {JobKind.TRACKER_ISSUE, JobKind.TRACKER_CHECK}  # a tracker's work needs only the room
    # Paging is retried for as long as a pager is down: the incident's other work must never wait for it.
    | {JobKind.PAGE, JobKind.PAGE_ACK, JobKind.PAGE_RESOLVE}
    # A repository that is down is retried for as long as it takes, holding up nothing else.
    | {JobKind.PUBLISH}
)
# What later jobs need of an unfinished provisioning job: reminders, the room; the rest, also what they
# may change or follow (the summary, the topic, the announcement). The pin is needed by nobody, so a
# rate-limited pins.add (Tier 2) never holds up the room's updates, roles or resolution.
_ROOM = frozenset({"create_room"})
_ROOM_READY = frozenset({"create_room", "invite_declarer", "set_topic", "post_summary", "announce"})


def waits_for(kind: str, earlier_kind: str, earlier_done: Iterable[str] = ()) -> bool:
    """Whether a job of `kind` must wait until an earlier unfinished job of the same incident is done."""
    if earlier_kind == JobKind.PROVISION:
        needed = _ROOM if kind in _INDEPENDENT else _ROOM_READY
        return not needed <= set(earlier_done)
    return kind not in _INDEPENDENT and earlier_kind not in _INDEPENDENT


@dataclass(frozen=True)
class FreshJob:
    """What a process needs to run a job it has just recorded without reading it back."""

    kind: JobKind
    payload: dict[str, Any]
    posts: dict[str, PostRef]


def fresh_job(tx: UnitOfWork, incident_id: int, kind: JobKind, payload: dict[str, Any]) -> FreshJob | None:
    """The job's context if nothing earlier must finish first (else the runner loads it in order later)."""
    if any(waits_for(kind, j.kind, j.done_steps) for j in tx.jobs.pending_for(incident_id)):
        return None
    summary = tx.posts.get(incident_id, "summary")
    posts = {"summary": PostRef(summary.channel_id, summary.ts)} if summary is not None else {}
    return FreshJob(kind=kind, payload=dict(payload), posts=posts)
