"""Following action items through: `/incident actions` lists them in the room with *Done* buttons; *Done*
(or `/incident action done <n>`) records who finished one and when; *Snooze* quiets an owner's reminder.

The list is posted in the room rather than shown to one person: it is the incident's shared follow-up
board, and a message in the room is the only kind Slack lets the bot update for everyone when someone
marks an item done (an ephemeral list can be replaced only through its own viewer's response_url, so it
would never show what others did). Anyone in the room may mark an item done; who did is recorded. From a
reminder DM (outside the room) only the item's owner may.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from commands.action import ActionPresenter, ActionSettings, describe, item_line
from commands.activity import touched
from commands.errors import IncidentError, PermissionDenied, RepeatedDelivery, UsageError
from commands.feature import SLOW, Ask, Deps, JobResult, JobState, Recorded, Reply
from commands.incidents import Scheduled, incident_in_room
from commands.jobs import JobKind, Plan, StepContext, StepOutcome, fresh_job, new_job
from commands.mrkdwn import escape
from commands.parsing import ListActionItems, MarkActionDone, SnoozeActionItem
from commands.ports import UnitOfWork
from commands.records import ActionItem, Incident, TimelineEvent
from commands.steps import post_once, room
from commands.tracker_sync import finished_by
from commands.views import view_of

SNOOZE_FOR = timedelta(days=7)
GONE = "That action item no longer exists."


class ItemGone(IncidentError):
    """The item a button named is not (or no longer) there."""


def ordered(items: Sequence[ActionItem]) -> list[tuple[int, ActionItem]]:
    """Items with their numbers (in the order recorded), open ones first, then the done ones."""
    numbered = list(enumerate(sorted(items, key=lambda i: i.id), start=1))
    return [n for n in numbered if n[1].done_at is None] + [n for n in numbered if n[1].done_at is not None]


def number_of(items: Sequence[ActionItem], item: ActionItem) -> int:
    return [i.id for i in sorted(items, key=lambda i: i.id)].index(item.id) + 1


def list_payload(items: Sequence[ActionItem]) -> dict[str, Any]:
    return {"items": [item_line(item, number) for number, item in ordered(items)]}


class ListActionItemsFeature:
    """`/incident actions`: the room's action items, posted in the room."""

    name = "actions"
    answers_in_ack = False
    slow = SLOW

    def record(self, _cmd: ListActionItems, ask: Ask, deps: Deps) -> Recorded:
        with deps.uow() as tx:
            incident = incident_in_room(tx, ask.room)
            items = tx.action_items.list_for(incident.id)
            if not items:
                return Recorded(
                    answer=f"{incident.ref} has no action items yet. Add one with "
                    "`/incident action <text> [@owner] [due <date>] [p1|p2|p3]`."
                )
            now = deps.clock.now()
            payload = list_payload(items)
            view = view_of(incident, deps.settings.severity_description(incident.severity))
            fresh = fresh_job(tx, incident.id, JobKind.ACTION_LIST, payload)
            job = tx.jobs.add(new_job(JobKind.ACTION_LIST, incident.id, now, deps.lease, payload))
            tx.commit()
        open_count = sum(1 for i in items if i.done_at is None)
        said = f"{incident.ref} has {open_count} open and {len(items) - open_count} done action item(s)"
        return Recorded(scheduled=Scheduled(view, job.id, fresh=fresh), reply=_list_reply(said))


def _list_reply(said: str) -> Reply:
    def reply(result: JobResult) -> str:
        return {
            JobState.DONE: f":clipboard: {said}: the list is in the room, each open one with a Done button.",
            JobState.PENDING: f":clipboard: {said}: the list will be in the room shortly.",
            JobState.GAVE_UP: f":warning: {said}, but I could not post the list in the room.",
            JobState.QUEUED: f":clipboard: {said}: the list is on its way to the room.",
        }[result.state]

    return reply


def post_action_list(ctx: StepContext) -> StepOutcome:
    """Post the list in the room, or show a change on the list message that was clicked."""
    present = cast(ActionPresenter, ctx.presenter)
    channel, ts = ctx.payload.get("channel"), ctx.payload.get("ts")
    if channel and ts:
        ctx.chat.update(str(channel), str(ts), present.action_list(ctx.incident, ctx.payload))
        return StepOutcome()
    purpose = f"action_list:{ctx.job_id}"  # its metadata key: a retry finds this post, not an older list
    message = present.action_list(ctx.incident, {**ctx.payload, "key": purpose})
    return post_once(ctx, purpose, room(ctx), message)


PLANS: dict[str, Plan] = {JobKind.ACTION_LIST: [("post_action_list", post_action_list)]}


@dataclass(frozen=True)
class _Found:
    incident: Incident
    item: ActionItem
    items: Sequence[ActionItem]
    in_room: bool  # asked from the item's war room (anyone there may act on it)


def _find(tx: UnitOfWork, cmd: MarkActionDone | SnoozeActionItem, ask: Ask) -> _Found:
    """The item a button or a number names, and whether it was asked for from its own room."""
    if isinstance(cmd, MarkActionDone) and cmd.number is not None:
        incident = incident_in_room(tx, ask.room, for_update=True)
        items = sorted(tx.action_items.list_for(incident.id), key=lambda i: i.id)
        if not 1 <= cmd.number <= len(items):
            raise UsageError(
                f"{incident.ref} has no action item {cmd.number} (it has {len(items)}): "
                "`/incident actions` lists them with their numbers."
            )
        return _Found(incident, items[cmd.number - 1], items, in_room=True)
    item = tx.action_items.get(cmd.item_id) if cmd.item_id is not None else None
    owning = tx.incidents.get(item.incident_id, for_update=True) if item is not None else None
    if item is None or owning is None:
        raise ItemGone(GONE)
    here = bool(ask.channel_id) and ask.channel_id == owning.channel_id
    return _Found(owning, item, tx.action_items.list_for(owning.id), in_room=here)


class MarkActionDoneFeature:
    """A *Done* button (on the room's list or a reminder DM), or `/incident action done <n>`."""

    name = "action done"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: MarkActionDone, ask: Ask, deps: Deps) -> Recorded:
        settings = cast(ActionSettings, deps.settings)
        with deps.uow() as tx:
            found = _find(tx, cmd, ask)
            incident, item = found.incident, found.item
            if not found.in_room and ask.user_id != item.owner:
                raise PermissionDenied(
                    f"Only its owner, or someone in {incident.ref}'s war room, may mark this item done."
                )
            now = deps.clock.now()
            if ask.delivery_key is not None and not tx.deliveries.first_time(ask.delivery_key, now):
                raise RepeatedDelivery(ask.delivery_key)
            number = number_of(found.items, item)
            marked = tx.action_items.mark_done(item.id, ask.user_id, now)
            if marked:
                tx.timeline.add(
                    TimelineEvent(
                        incident_id=incident.id,
                        kind="action_item_done",
                        actor=ask.user_id,
                        # The item's words stay on the item alone, so forgetting its author reaches them.
                        text=f"Marked action item {number} done",
                        occurred_at=now,
                        data={"item_id": item.id, "number": number},
                    )
                )
                touched(incident, now, settings)
            job_id, fresh = None, None
            if cmd.message_ts and found.in_room and incident.channel_id:
                # Show the latest state on the list that was clicked, even when nothing changed (stale).
                payload = {**list_payload(tx.action_items.list_for(incident.id))}
                payload.update(channel=incident.channel_id, ts=cmd.message_ts)
                fresh = fresh_job(tx, incident.id, JobKind.ACTION_LIST, payload)
                job_id = tx.jobs.add(new_job(JobKind.ACTION_LIST, incident.id, now, deps.lease, payload)).id
            view = view_of(incident, settings.severity_description(incident.severity))
            done_at, done_by = item.done_at, item.done_by
            tx.commit()
        where = f"action item {number} of {view.ref}"
        if marked:
            answer = f":white_check_mark: Marked {where} done: {escape(item.text)}"
        else:
            answer = (
                f"{where.capitalize()} was already marked done"
                + (f" {finished_by(done_by)}" if done_by else "")
                + (f" at {deps.presenter.when(done_at)}" if done_at else "")
                + ": nothing changed."
            )
        if job_id is None:
            return Recorded(answer=answer)
        return Recorded(scheduled=Scheduled(view, job_id, fresh=fresh), reply=lambda _result: answer)


class SnoozeActionItemFeature:
    """A reminder's *Snooze*: the owner hears of the item again no sooner than a week from now."""

    name = "snooze action item"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: SnoozeActionItem, ask: Ask, deps: Deps) -> Recorded:
        settings = cast(ActionSettings, deps.settings)
        with deps.uow() as tx:
            found = _find(tx, cmd, ask)
            item = found.item
            if ask.user_id != item.owner:
                raise PermissionDenied("Only the action item's owner may snooze its reminders.")
            now = deps.clock.now()
            if ask.delivery_key is not None and not tx.deliveries.first_time(ask.delivery_key, now):
                raise RepeatedDelivery(ask.delivery_key)
            until: datetime = settings.action_reminder_slot().first_after(now + SNOOZE_FOR, settings.zone)
            snoozed = tx.action_items.snooze(item.id, until)
            number = number_of(found.items, item)
            tx.commit()
        where = f"action item {number} of {found.incident.ref}"
        if not snoozed:
            return Recorded(answer=f"{where.capitalize()} is already done: nothing to snooze.")
        return Recorded(
            answer=f":zzz: Snoozed {where}: your next reminder of it is {deps.presenter.when(until)}."
            f" ({describe(item, settings.zone, now)})"
        )


LIST_ACTIONS = ListActionItemsFeature()
MARK_ACTION_DONE = MarkActionDoneFeature()
SNOOZE_ACTION_ITEM = SnoozeActionItemFeature()
