"""Declare: the incident is recorded before the acknowledgement (bursts share one commit), then its room."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from commands.checklist import checklist_payload, new_checklist, post_checklist
from commands.declarer import is_person
from commands.duplicate import find_possible_duplicates, link_batch_peers
from commands.errors import ChatRefused, NameTaken, RepeatedDelivery, UnknownTarget
from commands.feature import Ask, Deps, JobResult, JobState, Recorded, Reply
from commands.incidents import DeclareSettings, Scheduled
from commands.jobs import (
    Chain,
    FreshJob,
    JobKind,
    Parallel,
    Plan,
    StepContext,
    StepOutcome,
    new_job,
)
from commands.limits import DeclareAllowance, RateLimited
from commands.mrkdwn import channel_link, escape
from commands.pages import auto_page
from commands.parsing import Declare
from commands.ports import Clock, UnitOfWork, UnitOfWorkFactory
from commands.records import Incident, TimelineEvent
from commands.steps import (
    announce_message,
    post_once,
    room,
    room_names,
    set_topic,
)
from commands.targets import plan_targets
from commands.views import view_of
from commands.vocabulary import IncidentStatus


class DeclareFeature:
    """`/incident declare` and the declare form: one incident and the job that provisions its room."""

    name = "declare"
    answers_in_ack = True
    slow = (
        ":hourglass: Recording this declaration is taking longer than usual. I will confirm here as soon as "
        "it is recorded; until then, treat it as not declared."
    )

    def record(self, cmd: Declare, ask: Ask, deps: Deps) -> Recorded:
        [result] = self.record_batch([(cmd, ask)], deps)
        if isinstance(result, Exception):
            raise result
        return result

    def record_batch(self, items: Sequence[tuple[Declare, Ask]], deps: Deps) -> list[Recorded | Exception]:
        requests = [
            DeclareRequest(cmd, ask.user_id, ask.channel_id, cmd.description, ask.delivery_key)
            for cmd, ask in items
        ]
        declared = declare_incidents(
            requests, uow=deps.uow, clock=deps.clock, settings=deps.settings, lease=deps.lease
        )
        results: list[Recorded | Exception] = []
        for (cmd, ask), outcome in zip(items, declared, strict=True):
            if outcome is None:
                results.append(RepeatedDelivery(ask.delivery_key or ""))
            elif isinstance(outcome, RateLimited):
                results.append(outcome)
            else:
                results.append(_recorded(cmd, outcome))
        return results


def _recorded(cmd: Declare, scheduled: Scheduled) -> Recorded:
    ref = scheduled.incident.ref
    drill = scheduled.incident.drill
    # Freshly recorded and claimed by this process: its provisioning runs without reading it back.
    job = scheduled.fresh or FreshJob(JobKind.PROVISION, {}, {})
    fresh = Scheduled(scheduled.incident, scheduled.job_id, scheduled.then, fresh=job)
    maybe = _possibly(scheduled.incident.possible_duplicate_of)
    return Recorded(
        answer=f"{_declared(ref, drill)}: {escape(cmd.title)}. Opening its war room…{maybe}",
        scheduled=fresh,
        reply=_reply(ref, cmd.title, drill, maybe),
    )


def _declared(ref: str, drill: bool) -> str:
    return f":test_tube: Declared the drill *{ref}*" if drill else f":rotating_light: Declared *{ref}*"


def _possibly(other: int | None) -> str:
    """The declarer hears of a possible duplicate at once; its room's summary offers to mark it."""
    if other is None:
        return ""
    return (
        f"\n:twisted_rightwards_arrows: Possibly the same as *INC-{other}*: if so, use *Mark as duplicate* "
        "in the room."
    )


def _reply(ref: str, title: str, drill: bool = False, maybe: str = "") -> Reply:
    def reply(result: JobResult) -> str | None:
        if result.state is JobState.DONE:
            room = channel_link(result.channel_id)
            return f"{_declared(ref, drill)}: {escape(title)}. War room: {room}{maybe}"
        if result.state is JobState.GAVE_UP:
            return None  # the declarer was told what Slack refused and how to fix it
        if result.state is JobState.QUEUED:
            return (
                f":hourglass: *{ref}* is recorded and its war room is on its way; "
                "you will be invited as soon as it exists."
            )
        return (
            f":hourglass: *{ref}* is recorded. Slack is slow to set up its war room; "
            "I will keep trying and invite you as soon as it exists."
        )

    return reply


DECLARE = DeclareFeature()


def create_room(ctx: StepContext) -> StepOutcome:
    """Create the war room, moving to a deterministic suffix while the name is taken."""
    inc = ctx.incident
    for name in room_names(ctx):
        try:
            channel = ctx.chat.create_channel(name, private=inc.private)
        except NameTaken:
            # After a crash the room we asked for may exist already: adopt it rather than make a second.
            found = ctx.chat.find_own_channel(name) if ctx.recovering else None
            if found is None:
                continue
            channel = found
        kind = ("private " if inc.private else "") + ("drill room" if inc.drill else "war room")
        return StepOutcome(
            incident={"channel_id": channel, "channel_name": name},
            events=[("room_created", f"Opened {kind} #{name}")],
        )
    raise ChatRefused("conversations.create", "name_taken")  # ten names in a row taken: someone must look


def invite_declarer(ctx: StepContext) -> StepOutcome:
    if not is_person(ctx.incident.declared_by):
        return StepOutcome()  # declared by an alerting system: nobody to invite
    ctx.chat.invite(room(ctx), [ctx.incident.declared_by])
    return StepOutcome(events=[("member_invited", f"Invited <@{ctx.incident.declared_by}>")])


def invite_responders(ctx: StepContext) -> StepOutcome:
    """The type's and services' people and groups (expanded now), each once; refusals told in the room."""
    wanted = ctx.settings.invitees(ctx.incident.incident_type, ctx.incident.services)
    if not wanted:
        return StepOutcome()
    channel = room(ctx)
    people = [who for who in wanted if not who.startswith("S")]
    missing: list[str] = []
    for group in (who for who in wanted if who.startswith("S")):
        try:
            people += ctx.chat.group_members(group)
        except UnknownTarget:
            missing.append(group)
    people = [who for who in dict.fromkeys(people) if who != ctx.incident.declared_by]
    refused = ctx.chat.invite_each(channel, people) if people else {}
    invited = [who for who in people if who not in refused]
    events = [("member_invited", "Invited " + ", ".join(f"<@{who}>" for who in invited))] if invited else []
    if not missing and not refused:
        return StepOutcome(events=events)
    problems = {"groups": missing, "refused": refused}
    notice = post_once(ctx, "invite_problems", channel, ctx.presenter.invite_problems(ctx.incident, problems))
    return StepOutcome(post=notice.post, events=[*events, ("invite_failed", _invite_failures(problems))])


def _invite_failures(problems: dict[str, Any]) -> str:
    parts = [f"user group {group} does not exist" for group in problems["groups"]]
    parts += [f"<@{who}> ({why})" for who, why in problems["refused"].items()]
    return "Could not invite: " + "; ".join(parts)


def post_summary(ctx: StepContext) -> StepOutcome:
    outcome = post_once(ctx, "summary", room(ctx), ctx.presenter.summary(ctx.incident))
    return StepOutcome(post=outcome.post, events=[("summary_posted", "Posted the incident summary")])


def pin_summary(ctx: StepContext) -> StepOutcome:
    ref = ctx.posts["summary"]
    ctx.chat.pin(ref.channel, ref.ts)
    return StepOutcome(events=[("summary_pinned", "Pinned the incident summary")])


def announce(ctx: StepContext) -> StepOutcome:
    return announce_message(ctx, "announce", ctx.presenter.announcement(ctx.incident), "incident")


def mark_provisioned(ctx: StepContext) -> StepOutcome:
    return StepOutcome(incident={"provisioned_at": ctx.clock.now()})


PLANS: dict[str, Plan] = {
    # Everything needs the room; then all at once: the invite, the topic, the announcement, and the
    # summary followed by its pin (a lane of its own, so the announce channel's pace never holds it up).
    JobKind.PROVISION: [
        ("create_room", create_room),
        Parallel(
            ("invite_declarer", invite_declarer),
            ("invite_responders", invite_responders),
            ("set_topic", set_topic),
            Chain(("post_summary", post_summary), ("pin_summary", pin_summary)),
            ("announce", announce),
            ("post_checklist", post_checklist),
        ),
        ("mark_provisioned", mark_provisioned),
    ],
}


@dataclass(frozen=True)
class DeclareRequest:
    """One declaration waiting to be recorded, with the Slack delivery it came in (forms may be retried)."""

    cmd: Declare
    user_id: str
    channel_id: str | None
    description: str = ""
    delivery_key: str | None = None
    may_drill: bool = True  # False for alerts: a drill is only ever declared by a person


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
    with uow() as tx:
        results = record_declarations(tx, requests, now=now, settings=settings, lease=lease)
        tx.commit()
    return results


def record_declarations(
    tx: UnitOfWork,
    requests: Sequence[DeclareRequest],
    *,
    now: datetime,
    settings: DeclareSettings,
    lease: timedelta,
) -> list[Declared]:
    """Add declarations to an open transaction (the caller commits): what declare_incidents records,
    for anything else that declares (alerts) in a transaction of its own."""
    results: list[Declared] = [None] * len(requests)
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
    find_possible_duplicates(tx, incidents, now)  # one read for the batch
    tx.incidents.insert_many(incidents)
    link_batch_peers(tx, incidents, now)
    tx.timeline.insert_many([_declared_event(incident) for incident in incidents])
    checklists = [new_checklist(incident, settings) for incident in incidents]
    tx.checklist.insert_many([item for items in checklists for item in items])
    payloads = [{"checklist": checklist_payload(items)} if items else {} for items in checklists]
    job_ids = tx.jobs.insert_many(
        [new_job(JobKind.PROVISION, i.id, now, lease, p) for i, p in zip(incidents, payloads, strict=True)]
    )
    # A severity with `page` pages its policy once the room exists (a job of its own, run after).
    paged = [
        auto_page(tx, i, settings, now=now, lease=lease, why=f"Declared {i.severity}") for i in incidents
    ]
    for position, incident, job_id, payload, page in zip(
        fresh, incidents, job_ids, payloads, paged, strict=True
    ):
        view = view_of(incident, settings.severity_description(incident.severity))
        then = (page.id,) if page is not None else ()
        results[position] = Scheduled(view, job_id, then, fresh=FreshJob(JobKind.PROVISION, payload, {}))
    return results


def _new_incident(request: DeclareRequest, now: datetime, settings: DeclareSettings) -> Incident:
    cmd = request.cmd
    # A severity chosen directly wins; else the answers to impact and urgency; else the least severe.
    severity = (
        cmd.severity or settings.priority_severity(cmd.impact, cmd.urgency) or settings.severity_names()[-1]
    )
    incident_type = settings.type_of(cmd.incident_type)
    if not request.may_drill and settings.type_drill(incident_type):
        incident_type = None  # a type whose incidents are all drills cannot be an alert's
    incident = Incident(
        title=cmd.title,
        description=request.description,
        severity=severity,
        status=IncidentStatus.INVESTIGATING,
        # There is no --public: a type with `private = true` always makes private rooms.
        private=cmd.private or settings.type_private(incident_type),
        incident_type=incident_type,
        services=list(cmd.services),
        drill=request.may_drill and (cmd.drill or settings.type_drill(incident_type)),
        impact=cmd.impact,
        urgency=cmd.urgency,
        impact_started_at=cmd.impact_started_at,
        detected_at=cmd.detected_at,
        channel_id=None,
        declared_by=request.user_id,
        declared_at=now,
        declared_in=request.channel_id,
        next_update_due_at=now + settings.update_every(severity),
        reminders_since_update=0,
        commander_due_at=now + settings.commander_timeout(severity),
        stale_due_at=now + settings.stale_after(severity),
        roles=[],  # known empty: the snapshot needs no query
    )
    plan_targets(incident, settings)
    return incident


def _declared_event(incident: Incident) -> TimelineEvent:
    return TimelineEvent(
        incident_id=incident.id,
        kind="declared",
        actor=incident.declared_by,
        text=f"Declared {'a drill, ' if incident.drill else ''}{incident.severity}: {incident.title}",
        occurred_at=incident.declared_at,
        data=_declared_data(incident),
    )


def _declared_data(incident: Incident) -> dict[str, object]:
    """What the declaration said; the triage answers only when given, so plain declares stay as they were."""
    data: dict[str, object] = {"severity": incident.severity, "private": incident.private}
    if incident.incident_type is not None:
        data["type"] = incident.incident_type
    if incident.services:
        data["services"] = list(incident.services)
    if incident.drill:
        data["drill"] = True
    if incident.impact is not None and incident.urgency is not None:
        data.update(impact=incident.impact, urgency=incident.urgency)
    for key, moment in (("impact_started", incident.impact_started_at), ("detected", incident.detected_at)):
        if moment is not None:
            data[key] = moment.isoformat()
    return data
