"""Reopen: a resolved incident goes back to its first status; reminders resume and the room hears it."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from commands.activity import touched
from commands.errors import IncidentError, UsageError
from commands.feature import SLOW, Ask, Deps, JobResult, JobState, Recorded, Reply, heard_in
from commands.incidents import Scheduled, current_roles, incident_in_room
from commands.jobs import JobKind, Parallel, Plan, StepContext, StepOutcome, fresh_job, new_job
from commands.parsing import MAX_REASON, Reopen
from commands.permissions import NO_ADMINS, Admins, require
from commands.ports import Clock, IncidentSettings, UnitOfWorkFactory
from commands.records import TimelineEvent
from commands.steps import announce_if_public, post_once, refresh_summary, room, set_topic
from commands.targets import plan_targets
from commands.views import view_of
from commands.vocabulary import IncidentStatus, Role


class NotResolved(IncidentError):
    """Only a resolved incident can be reopened."""


class ReopenFeature:
    """`/incident reopen [reason]` in a resolved incident's war room."""

    name = "reopen"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: Reopen, ask: Ask, deps: Deps) -> Recorded:
        scheduled = reopen_incident(
            cmd,
            user_id=ask.user_id,
            channel_id=ask.room,
            uow=deps.uow,
            clock=deps.clock,
            settings=deps.settings,
            lease=deps.lease,
            admins=deps.admins,
        )
        where = heard_in(scheduled.incident.private, deps.settings.announce_channel)
        return Recorded(scheduled=scheduled, reply=_reply(scheduled.incident.ref, where))


def _reply(ref: str, where: str) -> Reply:
    def reply(result: JobResult) -> str:
        return {
            JobState.DONE: f":leftwards_arrow_with_hook: {ref} is open again; {where} heard it.",
            JobState.PENDING: f":hourglass: {ref} is open again; {where} will hear it shortly "
            "(Slack is slow, or the incident's earlier changes go first).",
            JobState.GAVE_UP: f":warning: {ref} is open again, but I could not tell {where}.",
            JobState.QUEUED: f":hourglass: {ref} is open again; {where} will hear it in a moment.",
        }[result.state]

    return reply


REOPEN = ReopenFeature()


def post_reopened(ctx: StepContext) -> StepOutcome:
    message = ctx.presenter.reopened(ctx.incident, ctx.payload)
    return post_once(ctx, f"reopened:{ctx.payload['event_id']}", room(ctx), message)


def announce_reopened(ctx: StepContext) -> StepOutcome:
    render = partial(ctx.presenter.reopen_announcement, ctx.incident, ctx.payload)
    return announce_if_public(ctx, f"reopen_announce:{ctx.payload['event_id']}", render, "reopening")


PLANS: dict[str, Plan] = {
    JobKind.REOPEN: [
        Parallel(
            ("post_reopened", post_reopened),
            ("announce_reopened", announce_reopened),
            ("refresh_summary", refresh_summary),
            ("set_topic", set_topic),
        ),
    ],
}


def reopen_incident(
    cmd: Reopen,
    *,
    user_id: str,
    channel_id: str,
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: IncidentSettings,
    lease: timedelta,
    admins: Admins = NO_ADMINS,
) -> Scheduled:
    """Put the room's resolved incident back to `investigating`, with its reminders and stale clock running.

    The resolution's postmortem draft is marked outdated: the next resolve shares a fresh one. The room is
    no longer due to be archived. Raises NotInWarRoom, NotResolved, UsageError, PermissionDenied,
    AdminsUnknown.
    """
    if len(cmd.reason) > MAX_REASON:
        raise UsageError(f"The reason is {len(cmd.reason)} characters long; the limit is {MAX_REASON}.")
    with uow() as tx:
        incident = incident_in_room(tx, channel_id, for_update=True)
        now = clock.now()  # after the lock: events commit in the order their times say
        if incident.status != IncidentStatus.RESOLVED:
            raise NotResolved(f"{incident.ref} is not resolved (it is {incident.status}): nothing to reopen.")
        roles = current_roles(incident)
        require("reopen", settings, user=user_id, roles=roles, admins=admins, ref=incident.ref)
        resolved = {
            "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
            "resolved_by": incident.resolved_by,
            "resolution_summary": incident.resolution_summary,
            "duplicate_of": incident.duplicate_of,
        }
        incident.status = IncidentStatus.INVESTIGATING  # the first configured status, always
        incident.resolved_at = None
        incident.resolved_by = None
        incident.resolution_summary = None
        incident.next_update_due_at = now + settings.update_every(incident.severity)
        incident.reminders_since_update = 0
        if Role.COMMANDER not in roles:
            incident.commander_due_at = now + settings.commander_timeout(incident.severity)
        touched(incident, now, settings)  # its stale clock runs again from now
        incident.archive_due_at = None  # a reopened incident's room is not archived
        incident.duplicate_of = None  # reopened: it goes on here, not as another incident's duplicate
        incident.postmortem_outdated_at = now
        plan_targets(incident, settings)  # the resolve target still counts from the declaration
        event = tx.timeline.add(
            TimelineEvent(
                incident_id=incident.id,
                kind="reopened",
                actor=user_id,
                text=f"Reopened: {cmd.reason}" if cmd.reason else "Reopened",
                occurred_at=now,
                data={"reason": cmd.reason, **resolved},
            )
        )
        tx.flush()
        payload = {"event_id": event.id, "by": user_id, "reason": cmd.reason, "at": now.isoformat()}
        fresh = fresh_job(tx, incident.id, JobKind.REOPEN, payload)
        job = tx.jobs.add(new_job(JobKind.REOPEN, incident.id, now, lease, payload))
        scheduled = Scheduled(
            view_of(incident, settings.severity_description(incident.severity)), job.id, fresh=fresh
        )
        tx.commit()
        return scheduled
