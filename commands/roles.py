"""Assign war-room roles; assigning a held role hands it over and the history stays visible."""

from __future__ import annotations

from datetime import timedelta

from commands.errors import IncidentError, RepeatedDelivery
from commands.incidents import Scheduled, current_roles, incident_in_room
from commands.jobs import JobKind, fresh_job, new_job
from commands.parsing import Assign
from commands.permissions import NO_ADMINS, Admins, require
from commands.ports import Clock, IncidentSettings, UnitOfWorkFactory
from commands.records import RoleAssignment, TimelineEvent
from commands.views import view_of
from commands.vocabulary import IncidentStatus, Role


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
