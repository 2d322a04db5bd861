"""Escalate: change the severity and/or page people; lowering the severity is a guarded action."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from commands.errors import AlreadyResolved, IncidentError, RepeatedDelivery, TryAgain, UsageError
from commands.incidents import Scheduled, current_roles, incident_in_room
from commands.jobs import JobKind, fresh_job, new_job
from commands.parsing import Escalate
from commands.permissions import NO_ADMINS, Admins, require
from commands.ports import Clock, IncidentSettings, UnitOfWork, UnitOfWorkFactory
from commands.records import TimelineEvent
from commands.views import view_of
from commands.vocabulary import IncidentStatus


def escalate(
    cmd: Escalate,
    *,
    user_id: str,
    channel_id: str,
    paged_users: Sequence[str],
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: IncidentSettings,
    lease: timedelta,
    admins: Admins = NO_ADMINS,
) -> Scheduled:
    """Record the escalation; `paged_users` are the named people plus the members of the named groups.

    Raises NotInWarRoom, AlreadyResolved, PermissionDenied, AdminsUnknown, UsageError.
    """
    with uow() as tx:
        incident = incident_in_room(tx, channel_id, for_update=True)
        now = clock.now()  # after the lock: events commit in the order their times say
        if incident.status == IncidentStatus.RESOLVED:
            raise AlreadyResolved(f"{incident.ref} is resolved; reopen by declaring a new incident.")
        previous = incident.severity
        changed = cmd.severity is not None and cmd.severity != previous
        names = settings.severity_names()
        if changed and cmd.severity is not None:
            lowering = previous in names and names.index(cmd.severity) > names.index(previous)
            if lowering:
                require(
                    "lower_severity",
                    settings,
                    user=user_id,
                    roles=current_roles(incident),
                    admins=admins,
                    ref=incident.ref,
                )
            incident.severity = cmd.severity
            # A new severity brings its own cadence, counted from now.
            incident.next_update_due_at = now + settings.update_every(cmd.severity)
            tx.timeline.add(
                TimelineEvent(
                    incident_id=incident.id,
                    kind="severity_changed",
                    actor=user_id,
                    text=f"Severity: {previous} → {cmd.severity}",
                    occurred_at=now,
                    data={"from": previous, "to": cmd.severity},
                )
            )
        elif not paged_users and not cmd.groups:
            raise UsageError(f"{incident.ref} is already {previous}, and nobody was named to page.")
        paged = list(dict.fromkeys(u for u in paged_users))
        text = _describe(previous, cmd.severity if changed else None, cmd.users, cmd.groups)
        event = tx.timeline.add(
            TimelineEvent(
                incident_id=incident.id,
                kind="escalated",
                actor=user_id,
                text=text,
                occurred_at=now,
                data={
                    "from": previous,
                    "to": incident.severity,
                    "users": list(cmd.users),
                    "groups": list(cmd.groups),
                    "paged": paged,
                },
            )
        )
        tx.flush()
        payload = {
            "event_id": event.id,
            "by": user_id,
            "from": previous,
            "to": incident.severity,
            "severity_changed": changed,
            "users": list(cmd.users),
            "groups": list(cmd.groups),
            "paged": paged,
        }
        fresh = fresh_job(tx, incident.id, JobKind.ESCALATE, payload)
        job = tx.jobs.add(new_job(JobKind.ESCALATE, incident.id, now, lease, payload))
        scheduled = Scheduled(
            view_of(incident, settings.severity_description(incident.severity)), job.id, fresh=fresh
        )
        tx.commit()
        return scheduled


def _describe(previous: str, new: str | None, users: Sequence[str], groups: Sequence[str]) -> str:
    parts = [f"Severity {previous} → {new}"] if new else []
    named = [f"<@{u}>" for u in users] + [f"<!subteam^{g}>" for g in groups]
    if named:
        parts.append("paged " + ", ".join(named))
    return "; ".join(parts)


class NotPaged(IncidentError):
    """The person pressing a page's *Join war room* was not paged for that incident; nothing changes."""


def room_to_join(
    *,
    incident_id: int,
    user_id: str,
    uow: UnitOfWorkFactory,
    clock: Clock,
    lease: timedelta,
    delivery_key: str | None = None,
) -> Scheduled:
    """Record the invite of someone paged for this open incident into its room: rechecked, never taken from
    the button.

    A button's value is whatever the client sends, so who was paged comes from the timeline's escalations.
    Raises NotPaged, AlreadyResolved, TryAgain (the room is not created yet), RepeatedDelivery.
    """
    with uow() as tx:
        incident = tx.incidents.get(incident_id)
        if incident is None or not _was_paged(tx, incident_id, user_id):
            raise NotPaged(
                "You were not paged for that incident, so I can't add you to its war room; nothing was "
                "changed. Someone in its war room can page you with `/incident escalate @you`."
            )
        if incident.status == IncidentStatus.RESOLVED:
            raise AlreadyResolved(f"{incident.ref} is resolved, so its war room takes no one new.")
        if incident.channel_id is None:
            raise TryAgain(f"{incident.ref} has no war room yet; try again in a moment.")
        now = clock.now()
        if delivery_key is not None and not tx.deliveries.first_time(delivery_key, now):
            raise RepeatedDelivery(delivery_key)
        payload = {"user": user_id}
        fresh = fresh_job(tx, incident.id, JobKind.JOIN, payload)
        job = tx.jobs.add(new_job(JobKind.JOIN, incident.id, now, lease, payload))
        scheduled = Scheduled(view_of(incident), job.id, fresh=fresh)
        tx.commit()
        return scheduled


def _was_paged(tx: UnitOfWork, incident_id: int, user_id: str) -> bool:
    return any(user_id in data.get("paged", ()) for data in tx.timeline.data_of(incident_id, "escalated"))
