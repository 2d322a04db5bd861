"""Action items: `/incident action <text> [@owner] [due <date>] [p1|p2|p3]` records follow-up work.

The item is recorded with its timeline line in one transaction (`add_action_item`, the one place an item
is created, whatever the surface: command, form, reaction), and the room sees it with its owner, due
date and priority. Due dates are the end of that day in the configured zone; an owned item with a due
date gets a weekly reminder slot once it is overdue (see commands/action_reminders.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, Protocol, cast

from commands.activity import StaleSettings, touched
from commands.due import WeeklySlot, resolve_due
from commands.errors import RepeatedDelivery, UnknownTarget
from commands.feature import SLOW, Ask, Deps, JobResult, JobState, Recorded, Reply
from commands.incidents import Scheduled, incident_in_room
from commands.jobs import JobKind, Plan, StepContext, StepOutcome, fresh_job, new_job
from commands.mrkdwn import mention
from commands.parsing import AddActionItem
from commands.ports import Clock, Message, UnitOfWorkFactory
from commands.records import ActionItem, TimelineEvent
from commands.steps import post_once, room
from commands.tracker_sync import track_action_item
from commands.views import IncidentView, view_of


class ActionSettings(StaleSettings, Protocol):
    """What action items read of the config: the zone due dates are in, and the weekly reminder slot."""

    @property
    def zone(self) -> tzinfo: ...

    def action_reminder_slot(self) -> WeeklySlot: ...

    def severity_description(self, name: str) -> str: ...


class ActionPresenter(Protocol):
    """The messages of action items (implemented beside the other presenters, outside the domain)."""

    def action_item(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...

    def action_list(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...

    def action_reminder(self, payload: dict[str, Any]) -> Message: ...


def item_line(item: ActionItem, number: int) -> dict[str, Any]:
    """An item as jobs carry it, so their steps render without reading the database."""
    return {
        "id": item.id,
        "number": number,
        "text": item.text,
        "owner": item.owner,
        "due": item.due_at.isoformat() if item.due_at else None,
        "priority": item.priority,
        "kind": item.kind,
        "done_at": item.done_at.isoformat() if item.done_at else None,
        "done_by": item.done_by,
        "created_by": item.created_by,
    }


def describe(item: ActionItem, zone: tzinfo, now: datetime) -> str:
    """Owner, due date (overdue marked) and priority as a reply says them, in mrkdwn."""
    parts = [f"owner {mention(item.owner)}" if item.owner else "no owner"]
    if item.due_at is not None:
        overdue = item.done_at is None and item.due_at < now
        parts.append(("*overdue*, " if overdue else "") + f"due {due_day(item.due_at, zone)}")
    if item.priority:
        parts.append(item.priority.upper())
    if item.kind:
        parts.append(f"type {item.kind}")
    return " · ".join(parts)


def due_day(due: datetime, zone: tzinfo) -> str:
    """The day an item is due, as people read it: `Fri 2026-12-04`."""
    return due.astimezone(zone).strftime("%a %Y-%m-%d")


def reminder_slot(item: ActionItem, settings: ActionSettings) -> datetime | None:
    """The first weekly reminder an owned item with a due date gets: the first slot after it is due."""
    if item.owner is None or item.due_at is None or item.done_at is not None:
        return None
    return settings.action_reminder_slot().first_after(item.due_at, settings.zone)


@dataclass(frozen=True)
class AddedItem:
    """The item just recorded, its number within the incident, and the job that shows it in the room."""

    item: ActionItem
    number: int
    incident: IncidentView
    scheduled: Scheduled


class ActionItemFeature:
    name = "action"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: AddActionItem, ask: Ask, deps: Deps) -> Recorded:
        if cmd.owner is not None and not deps.directory.user_exists(cmd.owner):
            raise UnknownTarget(
                f"{mention(cmd.owner)} is not an active member of this workspace: nothing was recorded. "
                "Name someone who can do the work."
            )
        settings = cast(ActionSettings, deps.settings)
        added = add_action_item(
            cmd,
            user_id=ask.user_id,
            channel_id=ask.room,
            uow=deps.uow,
            clock=deps.clock,
            settings=settings,
            delivery=ask.delivery_key,
            lease=deps.lease,
        )
        if added is None:
            raise RepeatedDelivery(ask.delivery_key or "")
        said = (
            f"Action item {added.number} recorded for {added.incident.ref}: "
            f"{describe(added.item, settings.zone, deps.clock.now())}"
        )
        return Recorded(scheduled=added.scheduled, reply=_reply(said))


def _reply(said: str) -> Reply:
    def reply(result: JobResult) -> str:
        return {
            JobState.DONE: f":white_check_mark: {said}. The room has it.",
            JobState.PENDING: f":white_check_mark: {said}. The room will see it shortly.",
            JobState.GAVE_UP: f":white_check_mark: {said}. I could not post it in the room.",
            JobState.QUEUED: f":white_check_mark: {said}. It is on its way to the room.",
        }[result.state]

    return reply


ACTION_ITEM = ActionItemFeature()


def add_action_item(
    cmd: AddActionItem,
    *,
    user_id: str,
    channel_id: str,
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: StaleSettings,
    delivery: str | None = None,
    lease: timedelta | None = None,
) -> AddedItem | None:
    """Record an action item (also on the timeline) once per delivery; None when it was recorded before.

    With a `lease` the room post's job is recorded too, claimed by this process to run at once; the
    reaction capture, whose reaction the room already sees, records none. Raises NotInWarRoom, and
    UsageError for a due date already over.
    """
    config = cast(ActionSettings, settings)
    with uow() as tx:
        incident = incident_in_room(tx, channel_id, for_update=True)  # numbers items one at a time
        now = clock.now()
        if delivery is not None and not tx.deliveries.first_time(delivery, now):
            return None
        due_at = resolve_due(cmd.due, now, config.zone) if cmd.due is not None else None
        number = len(tx.action_items.list_for(incident.id)) + 1
        item = ActionItem(
            incident_id=incident.id,
            text=cmd.text,
            owner=cmd.owner,
            created_by=user_id,
            created_at=now,
            due_at=due_at,
            priority=cmd.priority,
            kind=cmd.kind,
        )
        item.remind_at = reminder_slot(item, config)
        tx.action_items.add(item)
        tx.flush()  # the item's id, for its Done button
        track_action_item(tx, incident, item, now, config)
        owner = f" (owner <@{cmd.owner}>)" if cmd.owner else ""
        tx.timeline.add(
            TimelineEvent(
                incident_id=incident.id,
                kind="action_item",
                actor=user_id,
                text=f"{cmd.text}{owner}",
                occurred_at=now,
                data={
                    "owner": cmd.owner,
                    "item": cmd.text,
                    "item_id": item.id,
                    "number": number,
                    "due": due_at.isoformat() if due_at else None,
                    "priority": cmd.priority,
                },
            )
        )
        touched(incident, now, settings)
        view = view_of(incident, config.severity_description(incident.severity))
        job_id: int | None = None
        fresh = None
        if lease is not None:
            payload = {"item": item_line(item, number)}
            fresh = fresh_job(tx, incident.id, JobKind.ACTION_ITEM, payload)
            job_id = tx.jobs.add(new_job(JobKind.ACTION_ITEM, incident.id, now, lease, payload)).id
        tx.commit()
        return AddedItem(item, number, view, Scheduled(view, job_id, fresh=fresh))


def post_action_item(ctx: StepContext) -> StepOutcome:
    """Show the new item in the room, once."""
    message = cast(ActionPresenter, ctx.presenter).action_item(ctx.incident, ctx.payload)
    return post_once(ctx, f"action_item:{ctx.payload['item']['id']}", room(ctx), message)


PLANS: dict[str, Plan] = {JobKind.ACTION_ITEM: [("post_action_item", post_action_item)]}
