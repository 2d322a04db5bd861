"""Weekly reminders of overdue action items: one DM per owner per slot, with *Done* and *Snooze* per item.

Each open, owned item with a due date carries `remind_at`, the weekly slot (`action_reminders_at` in the
configured zone) in which it is next sent to its owner: the first slot after it falls due, then a week
later each time, or later when snoozed. The tick claims every due item of an owner in one conditional
UPDATE that moves them to the next slot, so replicas and restarts send each owner one DM per slot; a
slot missed while the bot was down is sent once, late, and the next one is a slot away again.

A private incident's item says only what its owner could already see: its text and number when the
owner is in the incident's room, else only that an item of that incident is overdue.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any, cast

from commands.action import ActionPresenter, ActionSettings
from commands.errors import ChatError
from commands.jobs import JobKind, Plan, StepContext, StepOutcome, new_job
from commands.ports import Clock, PostRef, UnitOfWorkFactory
from commands.records import ActionItem, Incident, SlackJob
from commands.reminders import TickResult


def tick(
    *, uow: UnitOfWorkFactory, clock: Clock, settings: ActionSettings, lease: timedelta, limit: int = 100
) -> TickResult:
    """Claim the owners whose reminders are due and record one DM job each, in one transaction."""
    now = clock.now()
    with uow() as tx:
        owners = tx.action_items.due_reminder_owners(now, limit)
        if not owners:
            return TickResult(job_ids=[], due=0)
        next_at = settings.action_reminder_slot().first_after(now, settings.zone)
        claimed = tx.action_items.claim_reminders(owners, now, next_at)
        by_owner: dict[str, list[ActionItem]] = defaultdict(list)
        for item in claimed:
            by_owner[str(item.owner)].append(item)
        incidents = {i.id: i for i in tx.incidents.get_many(sorted({i.incident_id for i in claimed}))}
        numbers = {
            incident_id: {
                item.id: n for n, item in enumerate(_by_id(tx.action_items.list_for(incident_id)), 1)
            }
            for incident_id in incidents
        }
        jobs = [
            _reminder_job(owner, items, incidents, numbers, now, lease)
            for owner, items in sorted(by_owner.items())
        ]
        job_ids = tx.jobs.insert_many(jobs)
        tx.commit()
        return TickResult(job_ids=job_ids, due=len(owners))


def _by_id(items: Any) -> list[ActionItem]:
    return sorted(items, key=lambda i: i.id)


def _reminder_job(
    owner: str,
    items: list[ActionItem],
    incidents: dict[int, Incident],
    numbers: dict[int, dict[int, int]],
    now: Any,
    lease: timedelta,
) -> SlackJob:
    """The owner's DM job, anchored to the incident of their oldest item (jobs belong to an incident)."""
    lines = []
    for item in sorted(items, key=lambda i: (i.due_at or now, i.id)):
        incident = incidents[item.incident_id]
        lines.append(
            {
                "id": item.id,
                "number": numbers[incident.id][item.id],
                "incident": incident.ref,
                "private": incident.private,
                "room": incident.channel_id,
                "title": None if incident.private else incident.title,
                "text": item.text,
                "due": item.due_at.isoformat() if item.due_at else None,
                "priority": item.priority,
            }
        )
    anchor = min(items, key=lambda i: i.id).incident_id
    payload = {"owner": owner, "slot": now.isoformat(), "items": lines, "incident_id": anchor}
    return new_job(JobKind.ACTION_REMINDER, anchor, now, lease, payload)


def _visible(ctx: StepContext, owner: str, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Private incidents' items keep their text only for an owner who is in that incident's room."""
    members: dict[str, bool] = {}
    shown = []
    for line in lines:
        if line["private"]:
            channel = str(line.get("room") or "")
            if channel not in members:
                try:
                    members[channel] = bool(channel) and owner in ctx.chat.members(channel)
                except ChatError:  # cannot tell: say no more than the incident's number
                    members[channel] = False
            if not members[channel]:
                line = {**line, "text": None}
        shown.append(line)
    return shown


def send_action_reminder(ctx: StepContext) -> StepOutcome:
    """DM the owner their overdue items once (a retry looks for the DM before sending it again)."""
    owner = str(ctx.payload["owner"])
    purpose = f"action_reminder:{owner}:{ctx.payload['slot']}"
    if purpose in ctx.posts:
        return StepOutcome()
    payload = {**ctx.payload, "items": _visible(ctx, owner, list(ctx.payload["items"])), "key": purpose}
    message = cast(ActionPresenter, ctx.presenter).action_reminder(payload)
    found: PostRef | None = None
    if ctx.recovering:
        found = ctx.chat.find_direct_message(
            owner, message.event_type, ctx.incident.id, ctx.incident.declared_at, purpose
        )
    return StepOutcome(post=(purpose, found or ctx.chat.direct_message(owner, message)))


PLANS: dict[str, Plan] = {JobKind.ACTION_REMINDER: [("send_action_reminder", send_action_reminder)]}
