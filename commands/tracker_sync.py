"""Action items in an issue tracker: one issue per item, its link in the room, its closed state back.

A new action item records a tracker job in its own transaction (commands/action.py calls
`track_action_item`); the job creates the issue, records the link the moment the tracker returns it,
then tells the room. A retry after a crash between creating and recording looks the issue up by the
item's marker first, so it is not created twice. The tick (like commands/timers.py) claims each open
link's due check with one conditional UPDATE, so replicas check each issue once per `check_every`;
an issue found closed marks its item done, with `done_by` set to the tracker's name ("github", "jira"),
a timeline event and a room post. Drills get no issues: practice work would land in a real backlog.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from commands.jobs import JobKind, Plan, StepContext, StepOutcome, new_job
from commands.mrkdwn import escape, mention
from commands.ports import Clock, Message, UnitOfWork
from commands.records import ActionItem, Incident, SlackJob, TimelineEvent, TrackerLink
from commands.reminders import TickResult
from commands.steps import post_once, room
from commands.tracker import CLOSED, Issue

# GitHub allows 256 characters in a title and Jira 255 in a summary; the reference goes in front.
TITLE_LIMIT = 200


@runtime_checkable
class TrackerSettings(Protocol):
    """Which tracker is configured (None: none) and how often an open issue is checked."""

    @property
    def tracker_name(self) -> str | None: ...

    @property
    def tracker_labels(self) -> list[str]: ...

    @property
    def tracker_check_every(self) -> timedelta: ...


class LinkStore(Protocol):
    def add(self, link: TrackerLink) -> TrackerLink: ...

    def get(self, link_id: int) -> TrackerLink | None: ...

    def for_item(self, action_item_id: int) -> TrackerLink | None: ...

    def item(self, action_item_id: int) -> ActionItem | None: ...

    def due(self, now: datetime, tracker: str, limit: int) -> list[tuple[int, int]]: ...

    def claim(self, ids: list[int], now: datetime, next_check: datetime) -> set[int]: ...

    def close(self, link_id: int, now: datetime) -> bool: ...

    def check_now(self, tracker: str, key: str, now: datetime) -> int: ...


class TrackerUnitOfWork(UnitOfWork, Protocol):
    """A unit of work that also holds tracker links (the SQL store's)."""

    @property
    def tracker_links(self) -> LinkStore: ...

    def __enter__(self) -> TrackerUnitOfWork: ...


TrackerUnitOfWorkFactory = Callable[[], TrackerUnitOfWork]


def marker(action_item_id: int) -> str:
    """What the issue carries so a retry can find it: unique per action item of this bot's database."""
    return f"incidentbot-action-item-{action_item_id}"


def track_action_item(
    tx: UnitOfWork, incident: Incident, item: ActionItem, now: datetime, settings: object
) -> None:
    """Record the job that creates the item's issue, in the item's transaction; nothing without a tracker.

    The job is recorded due and unclaimed, so the worker's next claim (within a tick) runs it and the
    person's acknowledgement never waits for the tracker.
    """
    if not isinstance(settings, TrackerSettings) or settings.tracker_name is None or incident.drill:
        return
    tx.flush()  # the item's id
    tx.jobs.add(
        SlackJob(
            kind=JobKind.TRACKER_ISSUE,
            incident_id=incident.id,
            payload={"item": item.id, "by": item.created_by},
            attempts=0,
            due_at=now,
            created_at=now,
        )
    )


def tracker_plans(uow: TrackerUnitOfWorkFactory, clock: Clock, settings: TrackerSettings) -> dict[str, Plan]:
    """The tracker jobs: create the issue then link it in the room; check a linked issue's state."""

    def create_issue(ctx: StepContext) -> StepOutcome:
        item_id = int(ctx.payload["item"])
        with uow() as tx:
            if tx.tracker_links.for_item(item_id) is not None:
                return StepOutcome()  # recorded by an earlier attempt
            item = tx.tracker_links.item(item_id)
            if item is None:
                return StepOutcome()  # removed since (the incident or the person was forgotten)
            text = item.text
        tag = marker(item_id)
        found = ctx.tracker.find_issue(tag) if ctx.recovering else None
        issue = found or ctx.tracker.create_issue(
            _title(ctx.incident.ref, text), _body(ctx, text), settings.tracker_labels, marker=tag
        )
        _record_link(uow, ctx, item_id, text, issue, clock.now(), settings.tracker_check_every)
        return StepOutcome()

    def link_in_room(ctx: StepContext) -> StepOutcome:
        item_id = int(ctx.payload["item"])
        with uow() as tx:
            link = tx.tracker_links.for_item(item_id)
            item = tx.tracker_links.item(item_id)
            if link is None or item is None:
                return StepOutcome()
            key, url, text = link.key, link.url, item.text
        message = Message(
            text=f":link: Action item “{escape(_short(text))}” is tracked as "
            f"<{_safe_url(url)}|{escape(key)}>.",
            event_type="incident_action_item_tracked",
            event_payload={
                "incident_id": ctx.incident.id,
                "incident": ctx.incident.ref,
                "key": f"item:{item_id}",
            },
        )
        return post_once(ctx, f"tracker_link:{item_id}", room(ctx), message)

    def check_issue(ctx: StepContext) -> StepOutcome:
        link_id = int(ctx.payload["link"])
        with uow() as tx:
            link = tx.tracker_links.get(link_id)
            if link is None:
                return StepOutcome()
            key, tracker, item_id, state = link.key, link.tracker, link.action_item_id, link.state
        if state != CLOSED:
            if ctx.tracker.issue_state(key) != CLOSED:
                return StepOutcome()
            _record_closed(uow, ctx, link_id, clock.now())
        with uow() as tx:
            item = tx.tracker_links.item(item_id)
            incident = tx.incidents.get(ctx.incident.id)
            if (
                item is None
                or incident is None
                or item.done_by != tracker
                or incident.archived_at is not None
            ):
                return StepOutcome()  # done by a person first, or the room is archived: nothing to tell
            text = item.text
        if not ctx.incident.channel_id:
            return StepOutcome()
        message = Message(
            text=f":white_check_mark: Action item “{escape(_short(text))}” is done: "
            f"{escape(key)} was closed in {_named(tracker)}.",
            event_type="incident_action_item_done",
            event_payload={
                "incident_id": ctx.incident.id,
                "incident": ctx.incident.ref,
                "key": f"link:{link_id}",
            },
        )
        return post_once(ctx, f"tracker_closed:{link_id}", ctx.incident.channel_id, message)

    return {
        JobKind.TRACKER_ISSUE: [("create_issue", create_issue), ("link_in_room", link_in_room)],
        JobKind.TRACKER_CHECK: [("check_issue", check_issue)],
    }


_TRACKER_NAMES = {"github": "GitHub", "jira": "Jira"}


def _named(tracker: str) -> str:
    return _TRACKER_NAMES.get(tracker, tracker)


def finished_by(done_by: str) -> str:
    """Who finished an item, in mrkdwn after "done": `by <@U1>`, or `in GitHub` when its issue was closed."""
    tracker = closed_in(done_by)
    return f"in {tracker}" if tracker else f"by {mention(done_by)}"


def closed_in(done_by: str | None) -> str | None:
    """The tracker whose closed issue finished an item (done_by is then its marker), else None: a person."""
    return _TRACKER_NAMES.get(done_by) if done_by else None


def _record_link(
    uow: TrackerUnitOfWorkFactory,
    ctx: StepContext,
    item_id: int,
    text: str,
    issue: Issue,
    now: datetime,
    every: timedelta,
) -> None:
    """Record the link (and its timeline line, which the postmortem reads) the moment the issue exists."""
    with uow() as tx:
        tx.tracker_links.add(
            TrackerLink(
                action_item_id=item_id,
                incident_id=ctx.incident.id,
                tracker=ctx.tracker.name,
                key=issue.key,
                url=issue.url,
                created_at=now,
                next_check_at=now + every,
            )
        )
        tx.timeline.add(
            TimelineEvent(
                incident_id=ctx.incident.id,
                kind="action_item_tracked",
                actor=None,
                text=f"Action item tracked as {issue.key}: {_short(text)}",
                occurred_at=now,
                data={"item": item_id, "tracker": ctx.tracker.name, "key": issue.key, "url": issue.url},
            )
        )
        tx.commit()


def _record_closed(uow: TrackerUnitOfWorkFactory, ctx: StepContext, link_id: int, now: datetime) -> None:
    """The issue was closed: the link stops being checked and its item is done, once."""
    with uow() as tx:
        link = tx.tracker_links.get(link_id)
        if link is None or not tx.tracker_links.close(link_id, now):
            return
        item = tx.tracker_links.item(link.action_item_id)
        if item is not None and item.done_at is None:
            item.done_at, item.done_by = now, link.tracker
            tx.timeline.add(
                TimelineEvent(
                    incident_id=ctx.incident.id,
                    kind="action_item_done",
                    actor=None,
                    text=f"Action item done ({link.key} closed in {_named(link.tracker)}): "
                    + _short(item.text),
                    occurred_at=now,
                    data={"item": item.id, "by": link.tracker, "key": link.key},
                )
            )
        tx.commit()


def tick(
    *,
    uow: TrackerUnitOfWorkFactory,
    clock: Clock,
    settings: TrackerSettings,
    lease: timedelta,
    limit: int = 100,
) -> TickResult:
    """Claim the open links whose check is due and record a check job for each, in one transaction.

    One indexed read when nothing is due; otherwise one conditional UPDATE and one multi-row INSERT.
    """
    tracker = settings.tracker_name
    if tracker is None:
        return TickResult(job_ids=[], due=0)
    now = clock.now()
    with uow() as tx:
        due = dict(tx.tracker_links.due(now, tracker, limit))
        if not due:
            return TickResult(job_ids=[], due=0)
        claimed = tx.tracker_links.claim(list(due), now, now + settings.tracker_check_every)
        jobs = [
            new_job(JobKind.TRACKER_CHECK, due[link_id], now, lease, {"link": link_id})
            for link_id in sorted(claimed)
        ]
        job_ids = tx.jobs.insert_many(jobs)
        tx.commit()
        return TickResult(job_ids=job_ids, due=len(due))


def _title(ref: str, text: str) -> str:
    line = " ".join(text.split())
    return f"[{ref}] {line[:TITLE_LIMIT]}" + ("…" if len(line) > TITLE_LIMIT else "")


def _body(ctx: StepContext, text: str) -> str:
    """Plain text: the item as typed, where it came from, and what closing the issue does."""
    return (
        f"{text}\n\n"
        f"Action item from incident {ctx.incident.ref}: {ctx.incident.title}\n"
        "Created by incidentbot. Closing this issue marks the action item done."
    )


def _short(text: str, limit: int = 120) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _safe_url(url: str) -> str:
    """A tracker's link inside <url|label>: nothing that could end the link or start another."""
    return escape(url.replace("|", "%7C").replace(" ", "%20"))


def check_soon(uow: TrackerUnitOfWorkFactory, clock: Clock, tracker: str, key: str) -> bool:
    """The tracker says an issue changed: its link is checked at the next tick, through the usual claim.

    The webhook's word is never taken for the state: the check asks the tracker, once across replicas.
    """
    with uow() as tx:
        changed = tx.tracker_links.check_now(tracker, key, clock.now())
        tx.commit()
        return changed > 0
