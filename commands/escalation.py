"""Escalate: change the severity and/or page people; lowering the severity is a guarded action."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from commands.errors import AlreadyResolved, UsageError
from commands.incidents import RESOLVED, Scheduled, current_roles, incident_in_room
from commands.jobs import UnitOfWorkFactory, fresh_job, new_job
from commands.parsing import Escalate
from commands.permissions import NO_ADMINS, Admins, require
from commands.ports import Clock, IncidentSettings
from commands.views import view_of
from store.models import TimelineEvent


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
        if incident.status == RESOLVED:
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
        fresh = fresh_job(tx, incident.id, "escalate", payload)
        job = tx.jobs.add(new_job("escalate", incident.id, now, lease, payload))
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
