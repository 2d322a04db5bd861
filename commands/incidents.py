"""Declare, resolve, and read incidents: each change and its timeline event in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from commands.errors import AlreadyResolved, NotInWarRoom, RepeatedDelivery
from commands.jobs import FreshJob, UnitOfWorkFactory, new_job
from commands.parsing import Declare, Resolve
from commands.permissions import require
from commands.ports import Clock, IncidentSettings
from commands.postmortem_steps import postmortem_job
from commands.views import IncidentView, view_of
from store.models import Incident, TimelineEvent
from store.uow import SqlUnitOfWork

INITIAL_STATUS = "investigating"
RESOLVED = "resolved"


@dataclass(frozen=True)
class Scheduled:
    """An incident snapshot and the job that will carry its Slack side effects."""

    incident: IncidentView
    job_id: int | None
    then: tuple[int, ...] = ()  # further jobs this process recorded and claimed, to run after job_id
    fresh: FreshJob | None = None  # set when the job may run at once from memory, without a read-back


def declare_incident(
    cmd: Declare,
    *,
    user_id: str,
    channel_id: str | None,
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: IncidentSettings,
    lease: timedelta,
    description: str = "",
    delivery_key: str | None = None,
) -> Scheduled:
    """Record a new incident and the intent to provision its war room.

    With a `delivery_key` (a form submission Slack may deliver again) the delivery is recorded in the same
    transaction, so a retry finds it and raises RepeatedDelivery, and a crash can never keep one without
    the other.
    """
    severities = settings.severity_names()
    severity = cmd.severity or severities[-1]
    now = clock.now()
    with uow() as tx:
        if delivery_key is not None and not tx.deliveries.first_time(delivery_key, now):
            raise RepeatedDelivery(delivery_key)
        incident = tx.incidents.add(
            Incident(
                title=cmd.title,
                description=description,
                severity=severity,
                status=INITIAL_STATUS,
                private=cmd.private,
                declared_by=user_id,
                declared_at=now,
                declared_in=channel_id,
                next_update_due_at=now + settings.update_every(severity),
                commander_due_at=now + settings.commander_timeout(severity),
                roles=[],  # known empty: no lazy load when the snapshot is taken
            )
        )
        tx.timeline.add(
            TimelineEvent(
                incident_id=incident.id,
                kind="declared",
                actor=user_id,
                text=f"Declared {severity}: {cmd.title}",
                occurred_at=now,
                data={"severity": severity, "private": cmd.private},
            )
        )
        job = tx.jobs.add(new_job("provision", incident.id, now, lease))
        scheduled = Scheduled(view_of(incident, settings.severity_description(severity)), job.id)
        tx.commit()
        return scheduled


def incident_in_room(tx: SqlUnitOfWork, channel_id: str, *, for_update: bool = False) -> Incident:
    incident = tx.incidents.get_by_channel(channel_id, for_update=for_update)
    if incident is None:
        raise NotInWarRoom(
            "This command works inside an incident's war room. Use `/incident list` to find the rooms."
        )
    return incident


def resolve_incident(
    cmd: Resolve,
    *,
    user_id: str,
    channel_id: str,
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: IncidentSettings,
    lease: timedelta,
    is_admin: bool = False,
) -> Scheduled:
    """Mark the room's incident resolved and schedule the resolution posts.

    Raises NotInWarRoom, AlreadyResolved, PermissionDenied.
    """
    with uow() as tx:
        incident = incident_in_room(tx, channel_id, for_update=True)
        now = clock.now()  # after the lock: events commit in the order their times say
        if incident.status == RESOLVED:
            raise AlreadyResolved(f"{incident.ref} is already resolved.")
        roles = current_roles(incident)
        require(
            "resolve",
            settings.allowed_to("resolve"),
            user=user_id,
            roles=roles,
            is_admin=is_admin,
            ref=incident.ref,
        )
        incident.next_update_due_at = None
        incident.commander_due_at = None
        incident.status = RESOLVED
        incident.resolved_at = now
        incident.resolved_by = user_id
        incident.resolution_summary = cmd.summary or None
        text = f"Resolved: {cmd.summary}" if cmd.summary else "Resolved"
        tx.timeline.add(
            TimelineEvent(incident_id=incident.id, kind="resolved", actor=user_id, text=text, occurred_at=now)
        )
        job = tx.jobs.add(new_job("resolve", incident.id, now, lease))
        # Recorded with the resolution so the draft cannot be lost; it runs after the resolve job.
        draft = tx.jobs.add(postmortem_job(incident.id, now, lease, requested_by=user_id))
        tx.commit()
        return Scheduled(
            view_of(incident, settings.severity_description(incident.severity)), job.id, (draft.id,)
        )


def current_roles(incident: Incident) -> dict[str, str]:
    """Role -> user for the assignments still in force."""
    return {r.role: r.user_id for r in incident.roles if r.ended_at is None}


def incident_status(*, channel_id: str, uow: UnitOfWorkFactory, settings: IncidentSettings) -> IncidentView:
    """Return the room's incident for a status reply."""
    with uow() as tx:
        incident = incident_in_room(tx, channel_id)
        return view_of(incident, settings.severity_description(incident.severity))


def list_open_incidents(*, uow: UnitOfWorkFactory, limit: int = 50) -> Sequence[IncidentView]:
    """Open incidents, newest first; private ones are left out because the asker may not be in their room."""
    with uow() as tx:
        return [view_of(i) for i in tx.incidents.list_open(limit) if not i.private]
