"""The Slack steps of reminders: the room nudge, and when overdue, DMs and an announce-channel line."""

from __future__ import annotations

from typing import cast

from commands.jobs import JobKind, Parallel, Plan, StepContext, StepOutcome
from commands.provisioning import announce_message, post_once
from commands.reminders import ReminderPresenter
from commands.response_steps import direct_message_each
from commands.vocabulary import Role


def _presenter(ctx: StepContext) -> ReminderPresenter:
    return cast(ReminderPresenter, ctx.presenter)


def post_reminder(ctx: StepContext) -> StepOutcome:
    """Remind the room; an incident resolved since the claim gets no reminder."""
    if ctx.incident.is_resolved or not ctx.incident.channel_id:
        return StepOutcome()
    message = _presenter(ctx).update_reminder(ctx.incident, ctx.payload)
    return post_once(ctx, f"reminder:{ctx.payload['due']}", ctx.incident.channel_id, message)


def dm_leads(ctx: StepContext) -> StepOutcome:
    if ctx.incident.is_resolved or not ctx.payload.get("escalate"):
        return StepOutcome()
    leads = [u for u in (ctx.payload.get("commander"), ctx.payload.get("comms")) if u]
    message = _presenter(ctx).overdue_reminder_dm(ctx.incident, ctx.payload)
    return direct_message_each(ctx, leads, f"overdue_dm:{ctx.payload['due']}", message)


def announce_overdue(ctx: StepContext) -> StepOutcome:
    if ctx.incident.is_resolved or ctx.incident.private or not ctx.payload.get("escalate"):
        return StepOutcome()
    message = _presenter(ctx).overdue_announcement(ctx.incident, ctx.payload)
    return announce_message(ctx, f"overdue:{ctx.payload['due']}", message, "overdue update", record=False)


def post_commander_reminder(ctx: StepContext) -> StepOutcome:
    if ctx.incident.is_resolved or not ctx.incident.channel_id or Role.COMMANDER in ctx.incident.roles:
        return StepOutcome()
    message = _presenter(ctx).commander_reminder(ctx.incident, ctx.payload)
    return post_once(ctx, f"commander_reminder:{ctx.payload['due']}", ctx.incident.channel_id, message)


REMINDER_PLANS: dict[str, Plan] = {
    JobKind.REMINDER: [
        Parallel(
            ("post_reminder", post_reminder),
            ("dm_leads", dm_leads),
            ("announce_overdue", announce_overdue),
        ),
    ],
    JobKind.COMMANDER_REMINDER: [("post_commander_reminder", post_commander_reminder)],
}
