"""Declare, resolve, and read incidents: each change and its timeline event in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from commands.errors import AlreadyResolved, NotInWarRoom
from commands.jobs import FreshJob, JobKind, fresh_job, new_job
from commands.limits import DeclareAllowance, RateLimit, RateLimited
from commands.parsing import Declare, Resolve
from commands.permissions import NO_ADMINS, Admins, require
from commands.ports import Clock, IncidentSettings, UnitOfWork, UnitOfWorkFactory
from commands.postmortem_steps import postmortem_job
from commands.records import Incident, TimelineEvent
from commands.views import IncidentView, view_of
from commands.vocabulary import IncidentStatus


@dataclass(frozen=True)
class Scheduled:
    """An incident snapshot and the job that will carry its Slack side effects."""

    incident: IncidentView
    job_id: int | None
    then: tuple[int, ...] = ()  # further jobs this process recorded and claimed, to run after job_id
    fresh: FreshJob | None = None  # set when the job may run at once from memory, without a read-back


@dataclass(frozen=True)
class DeclareRequest:
    """One declaration waiting to be recorded, with the Slack delivery it came in (forms may be retried)."""

    cmd: Declare
    user_id: str
    channel_id: str | None
    description: str = ""
    delivery_key: str | None = None


class DeclareSettings(IncidentSettings, Protocol):
    """The config a declaration reads: the usual settings, and how often one person may declare."""

    def declare_limit(self) -> RateLimit: ...


# What became of one declaration in a group commit: recorded, a repeated delivery (None), or refused.
Declared = Scheduled | RateLimited | None


def declare_incidents(
    requests: Sequence[DeclareRequest],
    *,
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: DeclareSettings,
    lease: timedelta,
) -> list[Declared]:
    """Record declarations, each with its declared event and provisioning job, in one transaction.

    A burst of declares queued together commits once (one multi-row INSERT per table); each result is
    the new incident and its job, None for a delivery recorded before (a retried form), which changes
    nothing, or RateLimited for someone over `declare_rate_limit`, which records nothing (not even the
    delivery, so a retry is refused again). A delivery key is written in the same transaction, so a
    crash keeps both or neither.
    """
    now = clock.now()
    results: list[Declared] = [None] * len(requests)
    with uow() as tx:
        limit = settings.declare_limit()
        used = tx.incidents.declares_since([r.user_id for r in requests], now - limit.window)
        allowance = DeclareAllowance(used, now, limit)
        fresh: list[int] = []  # positions of the requests to record
        seen: set[str] = set()
        for position, request in enumerate(requests):
            key = request.delivery_key
            if key is not None and key in seen:
                continue
            refused = allowance.take(request.user_id)
            if refused is not None:
                results[position] = refused
                continue
            if key is None or tx.deliveries.first_time(key, now):
                fresh.append(position)
            else:
                allowance.give_back(request.user_id)
            if key is not None:
                seen.add(key)
        incidents = [_new_incident(requests[position], now, settings) for position in fresh]
        tx.incidents.insert_many(incidents)
        tx.timeline.insert_many([_declared_event(incident) for incident in incidents])
        job_ids = tx.jobs.insert_many([new_job(JobKind.PROVISION, i.id, now, lease) for i in incidents])
        tx.commit()
    for position, incident, job_id in zip(fresh, incidents, job_ids, strict=True):
        view = view_of(incident, settings.severity_description(incident.severity))
        results[position] = Scheduled(view, job_id)
    return results


def declare_incident(
    cmd: Declare,
    *,
    user_id: str,
    channel_id: str | None,
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: DeclareSettings,
    lease: timedelta,
    description: str = "",
) -> Scheduled:
    """Record one new incident and the intent to provision its war room.

    Raises RateLimited.
    """
    request = DeclareRequest(cmd, user_id, channel_id, description)
    [scheduled] = declare_incidents([request], uow=uow, clock=clock, settings=settings, lease=lease)
    if isinstance(scheduled, RateLimited):
        raise scheduled
    assert scheduled is not None, "a declaration without a delivery key is always new"
    return scheduled


def _new_incident(request: DeclareRequest, now: datetime, settings: IncidentSettings) -> Incident:
    severity = request.cmd.severity or settings.severity_names()[-1]
    return Incident(
        title=request.cmd.title,
        description=request.description,
        severity=severity,
        status=IncidentStatus.INVESTIGATING,
        private=request.cmd.private,
        channel_id=None,
        declared_by=request.user_id,
        declared_at=now,
        declared_in=request.channel_id,
        next_update_due_at=now + settings.update_every(severity),
        reminders_since_update=0,
        commander_due_at=now + settings.commander_timeout(severity),
        roles=[],  # known empty: the snapshot needs no query
    )


def _declared_event(incident: Incident) -> TimelineEvent:
    return TimelineEvent(
        incident_id=incident.id,
        kind="declared",
        actor=incident.declared_by,
        text=f"Declared {incident.severity}: {incident.title}",
        occurred_at=incident.declared_at,
        data={"severity": incident.severity, "private": incident.private},
    )


def incident_in_room(tx: UnitOfWork, channel_id: str, *, for_update: bool = False) -> Incident:
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
    admins: Admins = NO_ADMINS,
) -> Scheduled:
    """Mark the room's incident resolved and schedule the resolution posts.

    Raises NotInWarRoom, AlreadyResolved, PermissionDenied, AdminsUnknown.
    """
    with uow() as tx:
        incident = incident_in_room(tx, channel_id, for_update=True)
        now = clock.now()  # after the lock: events commit in the order their times say
        if incident.status == IncidentStatus.RESOLVED:
            raise AlreadyResolved(f"{incident.ref} is already resolved.")
        require(
            "resolve", settings, user=user_id, roles=current_roles(incident), admins=admins, ref=incident.ref
        )
        incident.next_update_due_at = None
        incident.commander_due_at = None
        incident.status = IncidentStatus.RESOLVED
        incident.resolved_at = now
        incident.resolved_by = user_id
        incident.resolution_summary = cmd.summary or None
        text = f"Resolved: {cmd.summary}" if cmd.summary else "Resolved"
        tx.timeline.add(
            TimelineEvent(incident_id=incident.id, kind="resolved", actor=user_id, text=text, occurred_at=now)
        )
        fresh = fresh_job(tx, incident.id, JobKind.RESOLVE, {})
        job = tx.jobs.add(new_job(JobKind.RESOLVE, incident.id, now, lease))
        # Recorded with the resolution so the draft cannot be lost; it runs after the resolve job.
        draft = tx.jobs.add(postmortem_job(incident.id, now, lease, requested_by=user_id))
        tx.commit()
        return Scheduled(
            view_of(incident, settings.severity_description(incident.severity)),
            job.id,
            (draft.id,),
            fresh=fresh,
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
        return [view_of(i) for i in tx.incidents.list_open(limit, include_private=False)]
