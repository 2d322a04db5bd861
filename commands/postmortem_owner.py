"""Postmortems owned and reviewed: `/incident postmortem owner|status|review`, and the owner's DMs.

The owner is the person named, else the commander at resolve time (while open: the current commander).
The owner hears when the first draft is uploaded, and once more if the postmortem is still a `draft`
`postmortem_due` after the resolve: that reminder is claimed in the tick, once across replicas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import partial
from typing import Protocol, cast

from commands.activity import touched
from commands.due import resolve_due
from commands.errors import UsageError
from commands.feature import SLOW, Ask, Deps, JobResult, JobState, Recorded
from commands.incidents import Scheduled, incident_in_room
from commands.jobs import JobKind, Plan, StepContext, StepOutcome, new_job
from commands.mrkdwn import escape
from commands.parsing import SetPostmortem
from commands.ports import Clock, IncidentSettings, Message, PostRef, UnitOfWorkFactory
from commands.postmortem_steps import postmortem_job
from commands.publish import upload_to_publish
from commands.records import Incident, SlackJob, TimelineEvent
from commands.reminders import TickResult
from commands.steps import post_once, room
from commands.views import view_of
from commands.vocabulary import PostmortemStatus, Role

REFRESH_EVERY = timedelta(days=1)  # the daily refresh of an unpublished postmortem (postmortem_versions)
EVENT_TYPE = "incident_postmortem_owner"
OVERDUE_LIMIT = 200


class PostmortemSettings(Protocol):
    """What postmortem ownership reads of the config: the zone review days are in, and the due time."""

    @property
    def zone(self) -> tzinfo: ...

    @property
    def postmortem_due(self) -> timedelta: ...


def postmortem_owner(incident: Incident) -> str | None:
    """The owner named, else the commander when it was resolved (while open: the current one), else None."""
    if incident.postmortem_owner:
        return incident.postmortem_owner
    commanders = [r for r in incident.roles if r.role == Role.COMMANDER]
    at = incident.resolved_at
    if at is not None:
        for span in reversed(commanders):
            if span.assigned_at <= at and (span.ended_at is None or span.ended_at >= at):
                return span.user_id
    current = [r for r in commanders if r.ended_at is None]
    return current[-1].user_id if current else None


def postmortem_status(incident: Incident) -> str:
    return incident.postmortem_status or PostmortemStatus.DRAFT.value


def due_at(resolved_at: datetime, settings: IncidentSettings) -> datetime:
    """When the owner is reminded of a postmortem still in draft: `postmortem_due` after the resolve."""
    return resolved_at + cast(PostmortemSettings, settings).postmortem_due


@dataclass(frozen=True)
class Change:
    """One setting changed: the timeline line, and the room's sentence (mrkdwn)."""

    kind: str
    text: str
    said: str
    data: dict[str, str]


def _change(cmd: SetPostmortem, incident: Incident, now: datetime, zone: tzinfo) -> Change | None:
    """What the command changes; None when the postmortem already says that. Raises UsageError."""
    if cmd.owner is not None:
        if cmd.owner == incident.postmortem_owner:
            return None
        incident.postmortem_owner = cmd.owner
        return Change(
            "postmortem_owner",
            f"Postmortem owner: <@{cmd.owner}>",
            f"<@{cmd.owner}> owns the postmortem of *{incident.ref}*.",
            {"owner": cmd.owner},
        )
    if cmd.status is not None:
        if cmd.status == postmortem_status(incident):
            return None
        incident.postmortem_status = cmd.status
        if cmd.status == PostmortemStatus.PUBLISHED:
            # Published: no reminder, no refresh. Back to draft or review: refreshed again daily.
            incident.postmortem_due_at = None
            incident.postmortem_refresh_at = None
        elif incident.postmortem_refresh_at is None and incident.resolved_at is not None:
            incident.postmortem_refresh_at = now + REFRESH_EVERY
        return Change(
            "postmortem_status",
            f"Postmortem status: {cmd.status}",
            f"The postmortem of *{incident.ref}* is now *{cmd.status}*.",
            {"status": cmd.status},
        )
    assert cmd.review is not None
    day = _review_day(cmd, now, zone)
    if day == incident.review_date:
        return None
    incident.review_date = day
    return Change(
        "postmortem_review",
        f"Postmortem review: {day.isoformat()}",
        f"The postmortem review of *{incident.ref}* is on *{day:%a %Y-%m-%d}*.",
        {"review_date": day.isoformat()},
    )


def _review_day(cmd: SetPostmortem, now: datetime, zone: tzinfo) -> date:
    assert cmd.review is not None
    try:
        return resolve_due(cmd.review, now, zone).astimezone(zone).date()
    except UsageError as exc:
        raise UsageError(str(exc).replace("give a due date", "give a review day")) from None


def set_postmortem(
    cmd: SetPostmortem,
    *,
    user_id: str,
    channel_id: str,
    uow: UnitOfWorkFactory,
    now: datetime,
    settings: IncidentSettings,
    lease: timedelta,
) -> Scheduled | None:
    """Record the change, its timeline line and the room's post; None when nothing changed.

    Raises NotInWarRoom, UsageError (a review day already over).
    """
    zone = cast(PostmortemSettings, settings).zone
    with uow() as tx:
        incident = incident_in_room(tx, channel_id, for_update=True)
        change = _change(cmd, incident, now, zone)
        if change is None:
            return None
        event = TimelineEvent(
            incident_id=incident.id,
            kind=change.kind,
            actor=user_id,
            text=change.text,
            occurred_at=now,
            data=change.data,
        )
        tx.timeline.add(event)
        touched(incident, now, settings)
        tx.flush()
        payload = {"text": change.said, "by": user_id, "event_id": event.id}
        job = tx.jobs.add(new_job(JobKind.POSTMORTEM_SET, incident.id, now, lease, payload))
        if change.kind == "postmortem_status" and cmd.status == PostmortemStatus.PUBLISHED:
            upload_to_publish(tx, incident, now, user_id, settings)  # with [publish.github] only
        tx.commit()
        return Scheduled(view_of(incident, settings.severity_description(incident.severity)), job.id)


class SetPostmortemFeature:
    """`/incident postmortem owner <@user>`, `status draft|in-review|published`, `review <date>`."""

    name = "postmortem_set"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: SetPostmortem, ask: Ask, deps: Deps) -> Recorded:
        scheduled = set_postmortem(
            cmd,
            user_id=ask.user_id,
            channel_id=ask.room,
            uow=deps.uow,
            now=deps.clock.now(),
            settings=deps.settings,
            lease=deps.lease,
        )
        if scheduled is None:
            return Recorded(answer=":information_source: Nothing changed: the postmortem already says that.")
        return Recorded(scheduled=scheduled, reply=partial(_set_reply, scheduled.incident.ref))


def _set_reply(ref: str, result: JobResult) -> str:
    return {
        JobState.DONE: f":memo: Recorded for the {ref} postmortem; the war room shows it.",
        JobState.PENDING: f":hourglass: Recorded for the {ref} postmortem; the war room will show it shortly."
        "",
        JobState.GAVE_UP: f":warning: Recorded for the {ref} postmortem, but the war room could not show it.",
        JobState.QUEUED: f":hourglass: Recorded for the {ref} postmortem; the war room will show it soon.",
    }[result.state]


SET_POSTMORTEM = SetPostmortemFeature()


def post_postmortem_set(ctx: StepContext) -> StepOutcome:
    """Tell the room who set what (the sentence was worded, and escaped, when it was recorded)."""
    key = f"postmortem_set:{ctx.payload['event_id']}"
    text = f":memo: {ctx.payload['text']} (set by <@{escape(str(ctx.payload['by']))}>)"
    message = Message(
        text=text, event_type=EVENT_TYPE, event_payload={"incident_id": ctx.incident.id, "key": key}
    )
    return post_once(ctx, key, room(ctx), message)


def reminder_message(incident_id: int, ref: str, title: str, channel: str | None, key: str) -> Message:
    """The owner's DM: the postmortem is still a draft when it was due."""
    where = f" in <#{channel}>" if channel else ""
    text = (
        f":alarm_clock: The postmortem of *{ref}* ({escape(title)}) is still a draft{where}. "
        "Finish it and set `/incident postmortem status in-review` (or `published`) in the war room."
    )
    return Message(text=text, event_type=EVENT_TYPE, event_payload={"incident_id": incident_id, "key": key})


def ready_message(incident_id: int, ref: str, title: str, link: str | None, key: str) -> Message:
    """The owner's DM when the first draft is uploaded."""
    where = f": <{link}|open it>" if link and "|" not in link and ">" not in link else "."
    text = (
        f":memo: You own the postmortem of *{ref}* ({escape(title)}). The first draft is ready{where} "
        "Fill in what it asks, then set `/incident postmortem status in-review` in the war room."
    )
    return Message(text=text, event_type=EVENT_TYPE, event_payload={"incident_id": incident_id, "key": key})


def direct_message_once(ctx: StepContext, purpose: str, user: str, message: Message) -> StepOutcome:
    """DM once: a retry first looks for the DM an unrecorded attempt may have sent."""
    if purpose in ctx.posts:
        return StepOutcome()
    found: PostRef | None = None
    if ctx.recovering:
        found = ctx.chat.find_direct_message(
            user, message.event_type, ctx.incident.id, ctx.incident.declared_at, purpose
        )
    return StepOutcome(post=(purpose, found or ctx.chat.direct_message(user, message)))


def send_postmortem_reminder(ctx: StepContext) -> StepOutcome:
    """DM the owner that the postmortem is still a draft; one reopened since the claim gets nothing."""
    if not ctx.incident.is_resolved:
        return StepOutcome()
    owner = str(ctx.payload["owner"])
    purpose = f"postmortem_reminder:{ctx.payload['due']}"
    message = reminder_message(
        ctx.incident.id, ctx.incident.ref, ctx.incident.title, ctx.incident.channel_id, purpose
    )
    return direct_message_once(ctx, purpose, owner, message)


PLANS: dict[str, Plan] = {
    JobKind.POSTMORTEM_SET: [("post_postmortem_set", post_postmortem_set)],
    JobKind.POSTMORTEM_REMINDER: [("send_postmortem_reminder", send_postmortem_reminder)],
}


def tick(
    *,
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: IncidentSettings,  # noqa: ARG001  (every timed work is called alike: bot/pipeline/runtime.py)
    lease: timedelta,
    limit: int = 100,
) -> TickResult:
    """Claim the owners' reminders and the daily refreshes that are due, and record their jobs, once.

    A refresh is an upload job that shares a new version only if the draft changed since the last one.
    """
    now = clock.now()
    with uow() as tx:
        due_reminders = dict(tx.postmortems.due_reminders(now, limit))
        due_refreshes = dict(tx.postmortems.due_refreshes(now, limit))
        if not due_reminders and not due_refreshes:
            return TickResult(job_ids=[], due=0)
        reminded = tx.postmortems.claim_reminders(list(due_reminders), now)
        refreshed = tx.postmortems.claim_refreshes(list(due_refreshes), now, now + REFRESH_EVERY)
        tx.postmortems.clear_unclaimed(
            [i for i in due_reminders if i not in reminded], [i for i in due_refreshes if i not in refreshed]
        )
        incidents = {i.id: i for i in tx.incidents.get_many([*reminded, *refreshed])}
        jobs: list[SlackJob] = []
        for incident_id in sorted(reminded):
            owner = postmortem_owner(incidents[incident_id])
            if owner is not None:  # nobody to remind: no commander was ever named, nor an owner
                payload = {"owner": owner, "due": due_reminders[incident_id].isoformat()}
                jobs.append(new_job(JobKind.POSTMORTEM_REMINDER, incident_id, now, lease, payload))
        for incident_id in sorted(refreshed):
            job = postmortem_job(incident_id, now, lease, requested_by="")
            job.payload["refresh"] = True
            jobs.append(job)
        job_ids = tx.jobs.insert_many(jobs) if jobs else []
        tx.commit()
        return TickResult(job_ids=job_ids, due=len(due_reminders) + len(due_refreshes))


@dataclass(frozen=True)
class OverduePostmortem:
    """A resolved incident whose postmortem is not published `postmortem_due` after the resolve."""

    incident_id: int
    ref: str
    title: str
    owner: str | None
    status: str
    resolved_at: datetime
    review_date: date | None
    channel_id: str | None
    private: bool = False  # a shared channel may name only its number


def overdue_postmortems(
    *, uow: UnitOfWorkFactory, now: datetime, settings: IncidentSettings, limit: int = OVERDUE_LIMIT
) -> list[OverduePostmortem]:
    """The postmortems the weekly digest lists as overdue: not published `postmortem_due` after the
    resolve (drills and duplicates left out), oldest first."""
    before = now - cast(PostmortemSettings, settings).postmortem_due
    with uow() as tx:
        return [
            OverduePostmortem(
                incident_id=i.id,
                ref=i.ref,
                title=i.title,
                owner=postmortem_owner(i),
                status=postmortem_status(i),
                resolved_at=i.resolved_at or before,
                review_date=i.review_date,
                channel_id=i.channel_id,
                private=i.private,
            )
            for i in tx.postmortems.overdue(before, limit)
        ]
