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
from typing import Any, Protocol, cast

from commands.activity import StaleSettings, touched
from commands.declarer import person
from commands.errors import AlreadyResolved, RepeatedDelivery, UsageError
from commands.feature import SLOW, Ask, Deps, Recorded
from commands.incidents import incident_in_room
from commands.jobs import JobKind, Parallel, Plan, StepContext, StepOutcome, new_job
from commands.parsing import Snooze
from commands.ports import Clock, IncidentSettings, Message, UnitOfWorkFactory
from commands.records import ClaimedIncident, SlackJob, TimelineEvent
from commands.steps import announce_message, direct_message_each, post_once
from commands.views import IncidentView
from commands.vocabulary import IncidentStatus, Role

SNOOZE_CHOICES = {"15m": timedelta(minutes=15), "30m": timedelta(minutes=30), "1h": timedelta(hours=1)}


class ReminderSettings(IncidentSettings, Protocol):
    def escalate_after(self, severity: str) -> int: ...


class ReminderPresenter(Protocol):
    """Messages of the reminder flow (implemented next to the other templates)."""

    def update_reminder(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...

    def overdue_reminder_dm(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...

    def overdue_announcement(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...

    def commander_reminder(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...


def reminder_target(roles: Mapping[str, str], declared_by: str) -> str | None:
    """Who is nudged: the comms lead if assigned, else the commander, else the declarer if a person (an
    alert-declared incident with nobody in command asks the room instead: None)."""
    return roles.get("comms") or roles.get(Role.COMMANDER) or person(declared_by)


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
    """Claim what is due once (across replicas) and record its jobs, in one transaction.

    The cost follows what is due: two indexed reads when nothing is; otherwise one UPDATE per kind of
    reminder, one read of the claimed incidents and one multi-row INSERT per table, whatever the number.
    """
    now = clock.now()
    with uow() as tx:
        repo = tx.reminders
        due_updates = dict(repo.due_updates(now, limit))
        due_commanders = dict(repo.due_commander_checks(now, limit))
        if not due_updates and not due_commanders:
            return TickResult(job_ids=[], due=0)
        # However late we are (a restart, a slow tick), one reminder now and the next a full cadence later.
        next_due = {name: now + settings.update_every(name) for name in settings.severity_names()}
        fallback = now + settings.update_every(settings.severity_names()[-1])
        counts = repo.claim_updates(list(due_updates), now, next_due, fallback)
        asks = repo.claim_commander_checks(list(due_commanders), now)
        incidents = repo.claimed_incidents([*counts, *asks])
        resolved = [i for i in counts if incidents[i].status == IncidentStatus.RESOLVED]
        repo.clear_update_due(resolved)
        jobs: list[SlackJob] = []
        events: list[TimelineEvent] = []
        for incident_id, count in counts.items():
            incident = incidents[incident_id]
            if incident.status != IncidentStatus.RESOLVED:
                job, event = _update_reminder(settings, lease, now, incident, due_updates[incident_id], count)
                jobs.append(job)
                events.append(event)
        for incident_id in asks:
            incident = incidents[incident_id]
            if incident.status != IncidentStatus.RESOLVED and Role.COMMANDER not in incident.roles:
                jobs.append(
                    new_job(
                        JobKind.COMMANDER_REMINDER,
                        incident_id,
                        now,
                        lease,
                        {"due": due_commanders[incident_id].isoformat()},
                    )
                )
                events.append(
                    TimelineEvent(
                        incident_id=incident_id,
                        kind="commander_reminder",
                        actor=None,
                        text="Asked for a commander",
                        occurred_at=now,
                        data={},
                    )
                )
        # One multi-row INSERT per table on both backends.
        tx.timeline.insert_many(events)
        job_ids = tx.jobs.insert_many(jobs)
        tx.commit()
        return TickResult(job_ids=job_ids, due=len(due_updates) + len(due_commanders))


def _update_reminder(
    settings: ReminderSettings,
    lease: timedelta,
    now: datetime,
    incident: ClaimedIncident,
    seen: datetime,
    count: int,
) -> tuple[SlackJob, TimelineEvent]:
    roles = incident.roles
    escalate = escalates(count, settings.escalate_after(incident.severity))
    payload = {
        "due": seen.isoformat(),
        "count": count,
        "target": reminder_target(roles, incident.declared_by),
        "escalate": escalate,
        "commander": roles.get(Role.COMMANDER),
        "comms": roles.get("comms"),
        "last_update_at": incident.last_update_at.isoformat() if incident.last_update_at else None,
    }
    event = TimelineEvent(
        incident_id=incident.id,
        kind="reminder_sent",
        actor=None,
        text=f"Update reminder #{count}" + (" (escalated)" if escalate else ""),
        occurred_at=now,
        data={"due": seen.isoformat(), "count": count},
    )
    return new_job(JobKind.REMINDER, incident.id, now, lease, payload), event


def snooze(
    *,
    channel_id: str,
    user_id: str,
    choice: str,
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: StaleSettings,
    delivery_key: str | None = None,
) -> tuple[str, datetime]:
    """Move the room's next reminder to `choice` from now; returns the incident ref and the new due time.

    The click's delivery is recorded in the same transaction, so Slack's retry of it snoozes nothing.
    Raises NotInWarRoom, AlreadyResolved, RepeatedDelivery, KeyError for an unknown choice.
    """
    delay = SNOOZE_CHOICES[choice]
    now = clock.now()
    with uow() as tx:
        incident = incident_in_room(tx, channel_id, for_update=True)
        if delivery_key is not None and not tx.deliveries.first_time(delivery_key, now):
            raise RepeatedDelivery(delivery_key)
        if incident.status == IncidentStatus.RESOLVED:
            raise AlreadyResolved(f"{incident.ref} is resolved; there is nothing to snooze.")
        incident.next_update_due_at = now + delay
        touched(incident, now, settings)
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


class SnoozeFeature:
    """A reminder's snooze buttons: the room's next reminder moves to the chosen time from now."""

    name = "snooze"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: Snooze, ask: Ask, deps: Deps) -> Recorded:
        if cmd.choice not in SNOOZE_CHOICES:
            raise UsageError("That snooze option is not available.")
        ref, until = snooze(
            channel_id=ask.room,
            user_id=ask.user_id,
            choice=cmd.choice,
            uow=deps.uow,
            clock=deps.clock,
            settings=deps.settings,
            delivery_key=ask.delivery_key,
        )
        return Recorded(answer=f":zzz: {ref} update reminders snoozed until {deps.presenter.when(until)}.")


SNOOZE = SnoozeFeature()


def _presenter(ctx: StepContext) -> ReminderPresenter:
    return cast(ReminderPresenter, ctx.presenter)


def post_reminder(ctx: StepContext) -> StepOutcome:
    """Remind the room; an incident resolved since the claim gets no reminder."""
    if ctx.incident.is_resolved or not ctx.incident.channel_id:
        return StepOutcome()
    message = _presenter(ctx).update_reminder(ctx.incident, ctx.payload)
    return post_once(ctx, f"reminder:{ctx.payload['due']}", ctx.incident.channel_id, message)


def dm_leads(ctx: StepContext) -> StepOutcome:
    if ctx.incident.is_resolved or not ctx.payload.get("escalate"):
        return StepOutcome()
    leads = [u for u in (ctx.payload.get("commander"), ctx.payload.get("comms")) if u]
    message = _presenter(ctx).overdue_reminder_dm(ctx.incident, ctx.payload)
    return direct_message_each(ctx, leads, f"overdue_dm:{ctx.payload['due']}", message)


def announce_overdue(ctx: StepContext) -> StepOutcome:
    if ctx.incident.is_resolved or ctx.incident.private or not ctx.payload.get("escalate"):
        return StepOutcome()
    message = _presenter(ctx).overdue_announcement(ctx.incident, ctx.payload)
    return announce_message(ctx, f"overdue:{ctx.payload['due']}", message, "overdue update", record=False)


def post_commander_reminder(ctx: StepContext) -> StepOutcome:
    if ctx.incident.is_resolved or not ctx.incident.channel_id or Role.COMMANDER in ctx.incident.roles:
        return StepOutcome()
    message = _presenter(ctx).commander_reminder(ctx.incident, ctx.payload)
    return post_once(ctx, f"commander_reminder:{ctx.payload['due']}", ctx.incident.channel_id, message)


REMINDER_PLANS: dict[str, Plan] = {
    JobKind.REMINDER: [
        Parallel(
            ("post_reminder", post_reminder),
            ("dm_leads", dm_leads),
            ("announce_overdue", announce_overdue),
        ),
    ],
    JobKind.COMMANDER_REMINDER: [("post_commander_reminder", post_commander_reminder)],
}
