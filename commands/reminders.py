"""Stakeholder-update reminders: the policy, and the tick that claims what is due and schedules the posts.

Policy (per severity, from config): while an incident is open and no update has been posted for
`update_every` (since it was declared or since the last update), remind the room; repeat every
`update_every` until an update is posted. Every `escalate_after` reminders in a row without an update
the nudge escalates (DMs to the commander and comms lead; an "update overdue" line in the announce
channel for public incidents). An update resets the clock, a snooze moves it, resolving stops it, and a
severity change applies its cadence from that moment. With no commander `commander_timeout` after
declaring, the room is asked once for one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from commands.errors import AlreadyResolved
from commands.incidents import RESOLVED, current_roles, incident_in_room
from commands.jobs import UnitOfWorkFactory, new_job
from commands.ports import Clock, IncidentSettings, Message
from commands.views import IncidentView
from store.models import Incident, SlackJob, TimelineEvent
from store.reminder_queries import ReminderRepository
from store.uow import SqlUnitOfWork

SNOOZE_CHOICES = {"15m": timedelta(minutes=15), "30m": timedelta(minutes=30), "1h": timedelta(hours=1)}


class ReminderSettings(IncidentSettings, Protocol):
    def escalate_after(self, severity: str) -> int: ...


class ReminderPresenter(Protocol):
    """Messages of the reminder flow (implemented next to the other templates)."""

    def update_reminder(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...

    def overdue_reminder_dm(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...

    def overdue_announcement(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...

    def commander_reminder(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...


def reminder_target(roles: Mapping[str, str], declared_by: str) -> str:
    """Who is nudged: the comms lead if assigned, else the commander, else the declarer."""
    return roles.get("comms") or roles.get("commander") or declared_by


def escalates(count: int, escalate_after: int) -> bool:
    """The nudge escalates on the `escalate_after`-th reminder in a row, and every as many after that."""
    return count >= escalate_after and count % escalate_after == 0


@dataclass(frozen=True)
class TickResult:
    job_ids: list[int]
    due: int


def tick(
    *, uow: UnitOfWorkFactory, clock: Clock, settings: ReminderSettings, lease: timedelta, limit: int = 100
) -> TickResult:
    """Claim each due reminder once (across replicas) and record its job, all in one transaction.

    The cost follows what is due: two indexed reads when nothing is, and per due incident one
    conditional UPDATE plus its share of two multi-row INSERTs.
    """
    now = clock.now()
    with uow() as tx:
        repo = ReminderRepository(tx.session)
        due_updates = repo.due_updates(now, limit)
        due_commanders = repo.due_commander_checks(now, limit)
        if not due_updates and not due_commanders:
            return TickResult(job_ids=[], due=0)
        incidents = {i.id: i for i in tx.incidents.get_many([i for i, _ in due_updates + due_commanders])}
        jobs: list[SlackJob] = []
        for incident_id, seen in due_updates:
            job = _claim_update(tx, settings, lease, now, incidents.get(incident_id), seen)
            if job is not None:
                jobs.append(job)
        for incident_id, seen in due_commanders:
            job = _claim_commander(tx, lease, now, incidents.get(incident_id), seen)
            if job is not None:
                jobs.append(job)
        tx.session.add_all(jobs)
        tx.commit()
        return TickResult(job_ids=[j.id for j in jobs], due=len(due_updates) + len(due_commanders))


def _claim_update(
    tx: SqlUnitOfWork,
    settings: ReminderSettings,
    lease: timedelta,
    now: datetime,
    incident: Incident | None,
    seen: datetime,
) -> SlackJob | None:
    if incident is None:
        return None
    repo = ReminderRepository(tx.session)
    if incident.status == RESOLVED:
        repo.claim_update(incident.id, seen, None)  # a stale due time must not be read on every tick
        return None
    count = incident.reminders_since_update + 1  # read before the claim's UPDATE syncs the session
    # However late we are (a restart, a slow tick), one reminder now and the next a full cadence later.
    if not repo.claim_update(incident.id, seen, now + settings.update_every(incident.severity)):
        return None
    roles = current_roles(incident)
    payload = {
        "due": seen.isoformat(),
        "count": count,
        "target": reminder_target(roles, incident.declared_by),
        "escalate": escalates(count, settings.escalate_after(incident.severity)),
        "commander": roles.get("commander"),
        "comms": roles.get("comms"),
        "last_update_at": incident.last_update_at.isoformat() if incident.last_update_at else None,
    }
    tx.timeline.add(
        TimelineEvent(
            incident_id=incident.id,
            kind="reminder_sent",
            actor=None,
            text=f"Update reminder #{count}" + (" (escalated)" if payload["escalate"] else ""),
            occurred_at=now,
            data={"due": seen.isoformat(), "count": count},
        )
    )
    return new_job("reminder", incident.id, now, lease, payload)


def _claim_commander(
    tx: SqlUnitOfWork, lease: timedelta, now: datetime, incident: Incident | None, seen: datetime
) -> SlackJob | None:
    if incident is None or not ReminderRepository(tx.session).claim_commander_check(incident.id, seen):
        return None
    if incident.status == RESOLVED or "commander" in current_roles(incident):
        return None
    tx.timeline.add(
        TimelineEvent(
            incident_id=incident.id,
            kind="commander_reminder",
            actor=None,
            text="Asked for a commander",
            occurred_at=now,
        )
    )
    return new_job("commander_reminder", incident.id, now, lease, {"due": seen.isoformat()})


def snooze(
    *, channel_id: str, user_id: str, choice: str, uow: UnitOfWorkFactory, clock: Clock
) -> tuple[str, datetime]:
    """Move the room's next reminder to `choice` from now; returns the incident ref and the new due time.

    Raises NotInWarRoom, AlreadyResolved, KeyError for an unknown choice.
    """
    delay = SNOOZE_CHOICES[choice]
    now = clock.now()
    with uow() as tx:
        incident = incident_in_room(tx, channel_id, for_update=True)
        if incident.status == RESOLVED:
            raise AlreadyResolved(f"{incident.ref} is resolved; there is nothing to snooze.")
        incident.next_update_due_at = now + delay
        tx.timeline.add(
            TimelineEvent(
                incident_id=incident.id,
                kind="reminder_snoozed",
                actor=user_id,
                text=f"Snoozed update reminders for {choice}",
                occurred_at=now,
                data={"until": (now + delay).isoformat()},
            )
        )
        tx.commit()
        return incident.ref, now + delay
