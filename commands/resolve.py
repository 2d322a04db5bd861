"""Resolve: recorded with its postmortem draft's job; then the room and stakeholders hear it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from commands.errors import AlreadyResolved, RepeatedDelivery
from commands.feature import SLOW, Ask, Deps, Recorded
from commands.incidents import Scheduled, current_roles, incident_in_room
from commands.jobs import JobKind, Parallel, Plan, StepContext, StepOutcome, fresh_job, new_job
from commands.pages import stop_pages
from commands.parsing import Resolve
from commands.permissions import NO_ADMINS, Admins, require
from commands.ports import Clock, IncidentSettings, Message, UnitOfWorkFactory
from commands.postmortem_owner import due_at as postmortem_due_at
from commands.postmortem_steps import postmortem_job
from commands.records import TimelineEvent
from commands.steps import (
    announce_message,
    post_once,
    refresh_summary,
    room,
    set_topic,
)
from commands.targets import stop_targets
from commands.views import view_of
from commands.vocabulary import IncidentStatus, PostmortemStatus


class ResolveFeature:
    """`/incident resolve [summary]`: the commander (or admins, by default) closes the incident."""

    name = "resolve"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: Resolve, ask: Ask, deps: Deps) -> Recorded:
        scheduled = resolve_incident(
            cmd,
            user_id=ask.user_id,
            channel_id=ask.room,
            uow=deps.uow,
            clock=deps.clock,
            settings=deps.settings,
            lease=deps.lease,
            admins=deps.admins,  # consulted only when the cheap rules refuse, and never asks Slack
            delivery_key=ask.delivery_key,  # the stale nudge's *Resolve* button: Slack may send it twice
        )
        # The resolution post is the answer everyone sees: nobody waits for the job to say more.
        return Recorded(scheduled=scheduled, wait=False)


RESOLVE = ResolveFeature()


def _once_per_resolution(ctx: StepContext, purpose: str, message: Message) -> tuple[str, Message]:
    """A reopened incident's next resolution is posted anew: its posts get a purpose and key of their own."""
    if not ctx.payload.get("reopened"):
        return purpose, message
    keyed = f"{purpose}:{ctx.job_id}"
    return keyed, replace(message, event_payload={**message.event_payload, "key": keyed})


def post_resolution(ctx: StepContext) -> StepOutcome:
    purpose, message = _once_per_resolution(ctx, "resolution", ctx.presenter.resolution(ctx.incident))
    outcome = post_once(ctx, purpose, room(ctx), message)
    return StepOutcome(post=outcome.post)


def announce_resolution(ctx: StepContext) -> StepOutcome:
    message = ctx.presenter.resolution_announcement(ctx.incident)
    purpose, message = _once_per_resolution(ctx, "resolution_announce", message)
    return announce_message(ctx, purpose, message, "resolution")


PLANS: dict[str, Plan] = {
    JobKind.RESOLVE: [
        Parallel(
            ("post_resolution", post_resolution),
            ("announce_resolution", announce_resolution),
            ("refresh_summary", refresh_summary),
            ("set_topic", set_topic),
        ),
    ],
}


def resolve_incident(
    cmd: Resolve,
    *,
    user_id: str,
    channel_id: str,
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: IncidentSettings,
    lease: timedelta,
    admins: Admins = NO_ADMINS,
    delivery_key: str | None = None,
) -> Scheduled:
    """Mark the room's incident resolved and schedule the resolution posts.

    Raises NotInWarRoom, AlreadyResolved, PermissionDenied, AdminsUnknown, RepeatedDelivery.
    """
    with uow() as tx:
        incident = incident_in_room(tx, channel_id, for_update=True)
        now = clock.now()  # after the lock: events commit in the order their times say
        if delivery_key is not None and not tx.deliveries.first_time(delivery_key, now):
            raise RepeatedDelivery(delivery_key)
        if incident.status == IncidentStatus.RESOLVED:
            raise AlreadyResolved(f"{incident.ref} is already resolved.")
        require(
            "resolve", settings, user=user_id, roles=current_roles(incident), admins=admins, ref=incident.ref
        )
        incident.next_update_due_at = None
        incident.commander_due_at = None
        incident.stale_due_at = None
        stop_targets(incident)
        incident.archive_due_at = now + settings.archive_after
        if incident.postmortem_status in (None, PostmortemStatus.DRAFT):
            incident.postmortem_due_at = postmortem_due_at(now, settings)  # the owner's reminder
        incident.status = IncidentStatus.RESOLVED
        incident.resolved_at = now
        incident.resolved_by = user_id
        incident.resolution_summary = cmd.summary or None
        text = f"Resolved: {cmd.summary}" if cmd.summary else "Resolved"
        tx.timeline.add(
            TimelineEvent(incident_id=incident.id, kind="resolved", actor=user_id, text=text, occurred_at=now)
        )
        # After a reopen, the earlier resolution's posts must not stand in for this one's.
        payload = {"reopened": True} if incident.postmortem_outdated_at is not None else {}
        incident.postmortem_outdated_at = None  # the fresh draft is recorded below
        fresh = fresh_job(tx, incident.id, JobKind.RESOLVE, payload)
        job = tx.jobs.add(new_job(JobKind.RESOLVE, incident.id, now, lease, payload))
        # Recorded with the resolution so the draft cannot be lost; it runs after the resolve job.
        draft = tx.jobs.add(postmortem_job(incident.id, now, lease, requested_by=user_id))
        stopped = stop_pages(tx, incident, now, lease)  # its pages stop, its pager alerts are resolved
        tx.commit()
        return Scheduled(
            view_of(incident, settings.severity_description(incident.severity)),
            job.id,
            (draft.id, *((stopped.id,) if stopped else ())),
            fresh=fresh,
        )
