"""Post a stakeholder update (command or form): recorded, then posted to the room and the announce channel."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from commands.activity import touched
from commands.errors import AlreadyResolved, RepeatedDelivery, UsageError
from commands.feature import SLOW, Ask, Deps, JobResult, JobState, Recorded, Reply, heard_in
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
from commands.milestones import MITIGATED, mark_mitigated
from commands.parsing import PostUpdate
from commands.ports import Clock, IncidentSettings, UnitOfWorkFactory
from commands.records import TimelineEvent
from commands.steps import (
    announce_if_public,
    only_if,
    post_once,
    refresh_summary,
    room,
    set_topic,
)
from commands.views import view_of
from commands.vocabulary import IncidentStatus, Role


class UpdateFeature:
    """`/incident update` and the update form."""

    name = "update"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: PostUpdate, ask: Ask, deps: Deps) -> Recorded:
        scheduled = post_update(
            cmd,
            user_id=ask.user_id,
            channel_id=ask.room,
            uow=deps.uow,
            clock=deps.clock,
            settings=deps.settings,
            lease=deps.lease,
            delivery_key=ask.delivery_key,
        )
        where = heard_in(scheduled.incident.private, deps.settings.announce_channel)
        return Recorded(scheduled=scheduled, reply=_reply(scheduled.incident.ref, where))


def _reply(ref: str, where: str) -> Reply:
    def reply(result: JobResult) -> str:
        return {
            JobState.DONE: f":mega: Update for {ref} posted to {where}.",
            JobState.PENDING: f":hourglass: Update for {ref} recorded; it is not in {where} yet and will "
            "follow shortly (Slack is slow, or the incident's earlier updates go first).",
            JobState.GAVE_UP: f":warning: Update for {ref} recorded on the timeline, but I could not "
            f"post it to {where}.",
            JobState.QUEUED: f":hourglass: Update for {ref} recorded; it is on its way to {where}.",
        }[result.state]

    return reply


UPDATE = UpdateFeature()


def post_update_in_room(ctx: StepContext) -> StepOutcome:
    message = ctx.presenter.update(ctx.incident, ctx.payload)
    return post_once(ctx, f"update:{ctx.payload['event_id']}", room(ctx), message)


def announce_update(ctx: StepContext) -> StepOutcome:
    render = partial(ctx.presenter.update_announcement, ctx.incident, ctx.payload)
    purpose = f"update_announce:{ctx.payload['event_id']}"
    return announce_if_public(ctx, purpose, render, "update", record=False)


PLANS: dict[str, Plan] = {
    JobKind.UPDATE: [
        Parallel(
            ("post_update", post_update_in_room),
            ("announce_update", announce_update),
            # The summary and topic show the status, not the update's words.
            ("refresh_summary", only_if("status_changed", refresh_summary)),
            ("set_topic", only_if("status_changed", set_topic)),
        ),
    ],
}


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
            if cmd.status == MITIGATED:
                mark_mitigated(incident, now)
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
        # Reminders sent since the previous update: after one, the due time has moved on, so `on_time`
        # alone would call this update punctual; reports count it late (store/insights.py).
        reminded = incident.reminders_since_update
        incident.last_update_at = now
        incident.next_update_due_at = now + settings.update_every(incident.severity)
        incident.reminders_since_update = 0
        touched(incident, now, settings)
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
                    "reminders": reminded,
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
