"""Assign a role (command, form, or "I'll take it"): recorded, then the room told, the holder briefed."""

from __future__ import annotations

from datetime import timedelta

from commands.activity import touched
from commands.errors import IncidentError, RepeatedDelivery, UnknownTarget
from commands.feature import SLOW, Ask, Deps, JobResult, JobState, Recorded, Reply
from commands.incidents import Scheduled, current_roles, incident_in_room
from commands.jobs import (
    JobKind,
    Parallel,
    Plan,
    StepContext,
    StepOutcome,
    fresh_job,
    new_job,
)
from commands.milestones import mark_acknowledged
from commands.parsing import Assign
from commands.permissions import NO_ADMINS, Admins, require
from commands.ports import Clock, IncidentSettings, UnitOfWorkFactory
from commands.records import RoleAssignment, TimelineEvent
from commands.steps import (
    direct_message_each,
    post_once,
    refresh_summary,
    room,
)
from commands.views import view_of
from commands.vocabulary import IncidentStatus, Role


class AssignFeature:
    """`/incident assign`, the assign form and the reminder's *I'll take it* button."""

    name = "assign"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: Assign, ask: Ask, deps: Deps) -> Recorded:
        # Checked with Slack first (within the acknowledgement's budget), typed or picked in the form: a
        # picker offers only people who exist, but one may be deactivated before the form is sent.
        # "I'll take it" is the clicker themselves.
        if not cmd.vacant_only and not deps.directory.user_exists(cmd.user_id):
            raise UnknownTarget(f"I can't find <@{cmd.user_id}> in this workspace; nothing was changed.")
        scheduled = assign_role(
            cmd,
            user_id=ask.user_id,
            channel_id=ask.room,
            uow=deps.uow,
            clock=deps.clock,
            settings=deps.settings,
            lease=deps.lease,
            delivery_key=ask.delivery_key,
            admins=deps.admins,
            vacant_only=cmd.vacant_only,
        )
        ref = scheduled.incident.ref
        if scheduled.job_id is None:
            return Recorded(answer=f"<@{cmd.user_id}> is already {cmd.role} for {ref}.")
        return Recorded(scheduled=scheduled, reply=_reply(cmd, ref))


def _reply(cmd: Assign, ref: str) -> Reply:
    now = f"<@{cmd.user_id}> is now {cmd.role} for {ref}"

    def reply(result: JobResult) -> str:
        return {
            JobState.DONE: f":bust_in_silhouette: {now}.",
            JobState.PENDING: f":bust_in_silhouette: {now}. Slack is slow: the room and their briefing "
            "will follow as soon as it answers.",
            JobState.GAVE_UP: f":bust_in_silhouette: {now}, but I could not tell the room or brief them.",
            JobState.QUEUED: f":bust_in_silhouette: {now}. Telling the room and briefing them is on its way.",
        }[result.state]

    return reply


ASSIGN = AssignFeature()


def invite_assignee(ctx: StepContext) -> StepOutcome:
    ctx.chat.invite(room(ctx), [ctx.payload["user"]])
    return StepOutcome()


def brief_assignee(ctx: StepContext) -> StepOutcome:
    """A short DM: what the role means and where the room is."""
    role = ctx.payload["role"]
    message = ctx.presenter.briefing(ctx.incident, role, ctx.settings.role_description(role))
    return direct_message_each(ctx, [ctx.payload["user"]], f"briefing:{ctx.job_id}", message)


def post_role_in_room(ctx: StepContext) -> StepOutcome:
    """Everyone in the room sees who holds the role now (and who held it before)."""
    message = ctx.presenter.role_assigned(ctx.incident, {**ctx.payload, "key": ctx.job_id})
    return post_once(ctx, f"role:{ctx.job_id}", room(ctx), message)


PLANS: dict[str, Plan] = {
    JobKind.ASSIGN: [
        Parallel(
            ("invite_assignee", invite_assignee),
            ("brief_assignee", brief_assignee),
            ("post_role", post_role_in_room),
            ("refresh_summary", refresh_summary),
        ),
    ],
}


class RoleTaken(IncidentError):
    """Someone already holds the role the person offered to take; nothing was changed."""


def assign_role(
    cmd: Assign,
    *,
    user_id: str,
    channel_id: str,
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: IncidentSettings,
    lease: timedelta,
    delivery_key: str | None = None,
    admins: Admins = NO_ADMINS,
    vacant_only: bool = False,
) -> Scheduled:
    """Give `cmd.role` to `cmd.user_id`, ending the previous holder's assignment, and schedule the briefing.

    Taking or handing over command follows `[permissions] assign_commander`, on every path; with
    `vacant_only` (the reminder's "I'll take it") the commander role is taken only while nobody holds it.
    With a `delivery_key` (forms and buttons, which Slack may deliver again) the delivery is recorded in
    the same transaction. Raises NotInWarRoom, RepeatedDelivery, RoleTaken, PermissionDenied, AdminsUnknown.
    """
    with uow() as tx:
        incident = incident_in_room(tx, channel_id, for_update=True)
        now = clock.now()  # after the lock: events commit in the order their times say
        if delivery_key is not None and not tx.deliveries.first_time(delivery_key, now):
            raise RepeatedDelivery(delivery_key)
        previous = next((r for r in incident.roles if r.role == cmd.role and r.ended_at is None), None)
        if vacant_only and previous is not None:
            raise RoleTaken(_taken(incident.ref, cmd.role, previous.user_id, user_id))
        if previous is not None and previous.user_id == cmd.user_id:
            tx.commit()  # nothing changes but the delivery record
            return Scheduled(view_of(incident, settings.severity_description(incident.severity)), None)
        if cmd.role == Role.COMMANDER:
            require(
                "assign_commander",
                settings,
                user=user_id,
                roles=current_roles(incident),
                admins=admins,
                ref=incident.ref,
            )
        if previous is not None:
            previous.ended_at = now
        incident.roles.append(
            RoleAssignment(role=cmd.role, user_id=cmd.user_id, assigned_by=user_id, assigned_at=now)
        )
        if cmd.role == Role.COMMANDER:
            incident.commander_due_at = None
            mark_acknowledged(incident, now)
        touched(incident, now, settings)
        was = f" (was <@{previous.user_id}>)" if previous is not None else ""
        tx.timeline.add(
            TimelineEvent(
                incident_id=incident.id,
                kind="role_assigned",
                actor=user_id,
                text=f"{cmd.role.title()}: <@{cmd.user_id}>{was}",
                occurred_at=now,
                data={
                    "role": cmd.role,
                    "user": cmd.user_id,
                    "previous": previous.user_id if previous is not None else None,
                },
            )
        )
        payload = {
            "role": cmd.role,
            "user": cmd.user_id,
            "previous": previous.user_id if previous is not None else None,
            "by": user_id,
            "resolved": incident.status == IncidentStatus.RESOLVED,
        }
        fresh = fresh_job(tx, incident.id, JobKind.ASSIGN, payload)
        job = tx.jobs.add(new_job(JobKind.ASSIGN, incident.id, now, lease, payload))
        scheduled = Scheduled(
            view_of(incident, settings.severity_description(incident.severity)), job.id, fresh=fresh
        )
        tx.commit()
        return scheduled


def _taken(ref: str, role: str, holder: str, user: str) -> str:
    if holder == user:
        return f"You are already the {role} of {ref}."
    return f"<@{holder}> is already the {role} of {ref}; nothing was changed."
