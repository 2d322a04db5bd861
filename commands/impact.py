"""Detection and impact: when impact began, when it was noticed, and an explicit `/incident mitigated`.

A time is `HH:MM` in the configured zone (today, or yesterday when today's would still be ahead: people
set these after the fact, so a time not yet reached means last night) or ISO-8601 (without an offset, in
the configured zone). Neither may be in the future, and impact cannot start after it was detected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Protocol, cast

from commands.activity import touched
from commands.edit import EditSettings
from commands.errors import AlreadyResolved, RepeatedDelivery, UsageError
from commands.feature import SLOW, Ask, Deps, JobResult, JobState, Recorded, Reply
from commands.incidents import Scheduled, current_roles, incident_in_room
from commands.jobs import JobKind, Plan, StepContext, StepOutcome, fresh_job, new_job
from commands.milestones import mark_mitigated
from commands.mrkdwn import escape, mention
from commands.parsing import MarkMitigated, SetIncidentTime
from commands.permissions import NO_ADMINS, Admins, require
from commands.ports import Clock, Message, UnitOfWorkFactory
from commands.records import Incident, TimelineEvent
from commands.steps import post_once, room
from commands.views import view_of
from commands.vocabulary import IncidentStatus

_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")

# field -> (the incident's column, how people read it, the timeline event's kind)
FIELDS = {
    "impact_started": ("impact_started_at", "Impact started", "impact_started_set"),
    "detected": ("detected_at", "Detected", "detected_set"),
}
MITIGATED_EVENT = "mitigated_marked"


class ImpactSettings(EditSettings, Protocol):
    """What these commands read of the config: the zone `HH:MM` is in, besides what edits read."""

    @property
    def zone(self) -> tzinfo: ...


def parse_moment(text: str, now: datetime, zone: tzinfo) -> datetime:
    """The moment `text` names, never after `now`. Raises UsageError naming the accepted forms."""
    words = text.strip()
    match = _CLOCK.match(words)
    if match is not None:
        today = now.astimezone(zone).date()
        at = time(int(match.group(1)), int(match.group(2)))
        moment = datetime.combine(today, at, tzinfo=zone)
        if moment > now:  # not reached yet today: the person means yesterday
            moment = datetime.combine(today - timedelta(days=1), at, tzinfo=zone)
        return moment
    try:
        moment = datetime.fromisoformat(words)
    except ValueError:
        raise UsageError(
            f"`{escape(words[:40])}` is not a time: give HH:MM in the configured zone, or ISO-8601 "
            "like 2026-11-30T09:05 or 2026-11-30T09:05+01:00."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    if moment > now:
        raise UsageError(f"{shown(moment, zone)} is in the future: give a time that has passed.")
    return moment


def shown(moment: datetime | None, zone: tzinfo) -> str:
    """A moment as the room reads it: date, minute and zone."""
    if moment is None:
        return "not set"
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".rstrip()


def _check_order(incident: Incident, field: str, moment: datetime, zone: tzinfo) -> None:
    """Impact starts no later than it is detected, whichever of the two is set first."""
    if field == "impact_started" and incident.detected_at is not None and moment > incident.detected_at:
        raise UsageError(
            f"Impact cannot start ({shown(moment, zone)}) after it was detected "
            f"({shown(incident.detected_at, zone)}). Nothing changed."
        )
    if field == "detected" and incident.impact_started_at is not None and moment < incident.impact_started_at:
        raise UsageError(
            f"It cannot be detected ({shown(moment, zone)}) before impact started "
            f"({shown(incident.impact_started_at, zone)}). Nothing changed."
        )


def set_incident_time(
    cmd: SetIncidentTime,
    *,
    user_id: str,
    channel_id: str,
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: ImpactSettings,
    lease: timedelta,
    admins: Admins = NO_ADMINS,
    delivery_key: str | None = None,
) -> Scheduled | None:
    """Record the time, its timeline event and the room's post; None when it already says that.

    Raises NotInWarRoom, UsageError, PermissionDenied, AdminsUnknown, RepeatedDelivery.
    """
    column, label, kind = FIELDS[cmd.field]
    zone = settings.zone
    with uow() as tx:
        incident = incident_in_room(tx, channel_id, for_update=True)
        now = clock.now()
        if delivery_key is not None and not tx.deliveries.first_time(delivery_key, now):
            raise RepeatedDelivery(delivery_key)
        require(
            "edit", settings, user=user_id, roles=current_roles(incident), admins=admins, ref=incident.ref
        )
        moment = parse_moment(cmd.text, now, zone)
        _check_order(incident, cmd.field, moment, zone)
        before: datetime | None = getattr(incident, column)
        if before == moment:
            tx.commit()
            return None
        setattr(incident, column, moment)
        touched(incident, now, settings)
        event = tx.timeline.add(
            TimelineEvent(
                incident_id=incident.id,
                kind=kind,
                actor=user_id,
                text=f"{label}: {shown(before, zone)} → {shown(moment, zone)}",
                occurred_at=now,
                data={
                    "field": cmd.field,
                    "from": before.isoformat() if before else None,
                    "to": moment.isoformat(),
                },
            )
        )
        tx.flush()
        # The edit job's post and summary show it like any other edited field.
        change = {"field": cmd.field, "label": label, "from": shown(before, zone), "to": shown(moment, zone)}
        payload = {
            "event_id": event.id,
            "by": user_id,
            "changes": [change],
            "rename": False,
            "at": now.isoformat(),
        }
        fresh = fresh_job(tx, incident.id, JobKind.EDIT, payload)
        job = tx.jobs.add(new_job(JobKind.EDIT, incident.id, now, lease, payload))
        scheduled = Scheduled(
            view_of(incident, settings.severity_description(incident.severity)), job.id, fresh=fresh
        )
        tx.commit()
        return scheduled


def _reply(said: str) -> Reply:
    def reply(result: JobResult) -> str:
        return {
            JobState.DONE: f":white_check_mark: {said}; the war room has it.",
            JobState.PENDING: f":white_check_mark: {said}; the war room will see it shortly.",
            JobState.GAVE_UP: f":white_check_mark: {said} on the timeline; I could not post it in the room.",
            JobState.QUEUED: f":white_check_mark: {said}; it is on its way to the war room.",
        }[result.state]

    return reply


class IncidentTimeFeature:
    """`/incident edit impact-started <time>` and `/incident edit detected <time>`."""

    name = "edit"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: SetIncidentTime, ask: Ask, deps: Deps) -> Recorded:
        settings = cast(ImpactSettings, deps.settings)
        scheduled = set_incident_time(
            cmd,
            user_id=ask.user_id,
            channel_id=ask.room,
            uow=deps.uow,
            clock=deps.clock,
            settings=settings,
            lease=deps.lease,
            admins=deps.admins,
            delivery_key=ask.delivery_key,
        )
        label = FIELDS[cmd.field][1]
        if scheduled is None:
            return Recorded(
                answer=f":information_source: Nothing changed: {label.lower()} already says that."
            )
        return Recorded(scheduled=scheduled, reply=_reply(f"{label} recorded for {scheduled.incident.ref}"))


SET_INCIDENT_TIME = IncidentTimeFeature()


@dataclass(frozen=True)
class Mitigation:
    """What `/incident mitigated` came to: the job that tells the room, or the earlier mitigation."""

    ref: str
    scheduled: Scheduled | None
    already: datetime | None = None


def mark_incident_mitigated(
    cmd: MarkMitigated,
    *,
    user_id: str,
    channel_id: str,
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: ImpactSettings,
    lease: timedelta,
) -> Mitigation:
    """Mark the impact stopped now, keeping the status; an incident already mitigated keeps its first time.

    Raises NotInWarRoom, AlreadyResolved.
    """
    with uow() as tx:
        incident = incident_in_room(tx, channel_id, for_update=True)
        now = clock.now()
        if incident.status == IncidentStatus.RESOLVED:
            raise AlreadyResolved(f"{incident.ref} is resolved; nothing changed.")
        if incident.mitigated_at is not None:
            return Mitigation(incident.ref, None, already=incident.mitigated_at)
        mark_mitigated(incident, now)
        touched(incident, now, settings)
        event = tx.timeline.add(
            TimelineEvent(
                incident_id=incident.id,
                kind=MITIGATED_EVENT,
                actor=user_id,
                text="Marked mitigated" + (f": {cmd.note}" if cmd.note else ""),
                occurred_at=now,
                data={"note": cmd.note, "status": incident.status},
            )
        )
        tx.flush()
        payload = {"event_id": event.id, "by": user_id, "note": cmd.note, "at": now.isoformat()}
        fresh = fresh_job(tx, incident.id, JobKind.MITIGATED, payload)
        job = tx.jobs.add(new_job(JobKind.MITIGATED, incident.id, now, lease, payload))
        scheduled = Scheduled(
            view_of(incident, settings.severity_description(incident.severity)), job.id, fresh=fresh
        )
        tx.commit()
        return Mitigation(incident.ref, scheduled)


class MitigatedFeature:
    """`/incident mitigated [note]`."""

    name = "mitigated"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: MarkMitigated, ask: Ask, deps: Deps) -> Recorded:
        settings = cast(ImpactSettings, deps.settings)
        done = mark_incident_mitigated(
            cmd,
            user_id=ask.user_id,
            channel_id=ask.room,
            uow=deps.uow,
            clock=deps.clock,
            settings=settings,
            lease=deps.lease,
        )
        if done.scheduled is None:
            return Recorded(
                answer=f":information_source: {done.ref} was already mitigated at "
                f"{shown(done.already, settings.zone)}; nothing changed."
            )
        return Recorded(scheduled=done.scheduled, reply=_reply(f"{done.ref} marked mitigated"))


MITIGATED = MitigatedFeature()


def post_mitigated(ctx: StepContext) -> StepOutcome:
    """Tell the room the impact has stopped, once."""
    purpose = f"mitigated:{ctx.payload['event_id']}"
    note = str(ctx.payload.get("note") or "")
    at = ctx.presenter.when(datetime.fromisoformat(str(ctx.payload["at"])))
    text = (
        f":adhesive_bandage: {mention(str(ctx.payload['by']))} marked *{escape(ctx.incident.ref)}* mitigated "
        f"at {escape(at)}: the impact has stopped (status stays *{escape(ctx.incident.status)}*)."
        + (f"\n>{escape(note)}" if note else "")
    )
    message = Message(
        text=text,
        event_type="incident_mitigated",
        event_payload={"incident_id": ctx.incident.id, "incident": ctx.incident.ref, "key": purpose},
    )
    return post_once(ctx, purpose, room(ctx), message)


PLANS: dict[str, Plan] = {JobKind.MITIGATED: [("post_mitigated", post_mitigated)]}
