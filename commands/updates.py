"""Stakeholder updates: record the message and status, reset the reminder clock, schedule the posts."""

from __future__ import annotations

from datetime import timedelta

from commands.errors import AlreadyResolved, RepeatedDelivery, UsageError
from commands.incidents import Scheduled, current_roles, incident_in_room
from commands.jobs import JobKind, fresh_job, new_job
from commands.parsing import PostUpdate
from commands.ports import Clock, IncidentSettings, UnitOfWorkFactory
from commands.records import TimelineEvent
from commands.views import view_of
from commands.vocabulary import IncidentStatus, Role


def post_update(
    cmd: PostUpdate,
    *,
    user_id: str,
    channel_id: str,
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: IncidentSettings,
    lease: timedelta,
    delivery_key: str | None = None,
) -> Scheduled:
    """Record an update (and a status change) and schedule its posts.

    With a `delivery_key` (the update form, which Slack may deliver again) the delivery is recorded in
    the same transaction. Raises NotInWarRoom, AlreadyResolved, UsageError, RepeatedDelivery.
    """
    with uow() as tx:
        incident = incident_in_room(tx, channel_id, for_update=True)
        now = clock.now()  # after the lock: events commit in the order their times say
        if delivery_key is not None and not tx.deliveries.first_time(delivery_key, now):
            raise RepeatedDelivery(delivery_key)
        if incident.status == IncidentStatus.RESOLVED:
            raise AlreadyResolved(f"{incident.ref} is resolved; updates have stopped.")
        if not cmd.message.strip():
            raise UsageError("An update needs a message for stakeholders.")
        previous_status = incident.status
        if cmd.status and cmd.status != previous_status:
            incident.status = cmd.status
            tx.timeline.add(
                TimelineEvent(
                    incident_id=incident.id,
                    kind="status_changed",
                    actor=user_id,
                    text=f"Status: {previous_status} → {cmd.status}",
                    occurred_at=now,
                    data={"from": previous_status, "to": cmd.status},
                )
            )
        due = incident.next_update_due_at
        incident.last_update_at = now
        incident.next_update_due_at = now + settings.update_every(incident.severity)
        incident.reminders_since_update = 0
        event = tx.timeline.add(
            TimelineEvent(
                incident_id=incident.id,
                kind="update_posted",
                actor=user_id,
                text=cmd.message,
                occurred_at=now,
                data={
                    "status": incident.status,
                    "severity": incident.severity,
                    "on_time": due is None or now <= due,
                },
            )
        )
        tx.flush()
        payload = {
            "event_id": event.id,
            "message": cmd.message,
            "by": user_id,
            "status": incident.status,
            "status_changed": incident.status != previous_status,
            "commander": current_roles(incident).get(Role.COMMANDER),
            "at": now.isoformat(),
        }
        fresh = fresh_job(tx, incident.id, JobKind.UPDATE, payload)
        job = tx.jobs.add(new_job(JobKind.UPDATE, incident.id, now, lease, payload))
        scheduled = Scheduled(
            view_of(incident, settings.severity_description(incident.severity)), job.id, fresh=fresh
        )
        tx.commit()
        return scheduled


def last_update(*, channel_id: str, uow: UnitOfWorkFactory) -> tuple[str, str]:
    """The room incident's latest update message and its current status, to pre-fill the update form."""
    with uow() as tx:
        incident = incident_in_room(tx, channel_id)
        latest = tx.timeline.latest(incident.id, "update_posted")
        return (latest.text if latest is not None else "", incident.status)
