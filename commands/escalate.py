"""Escalate (severity and/or pages) and join a room from a page: recorded, then people are paged."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial

from commands.activity import touched
from commands.errors import (
    AlreadyResolved,
    IncidentError,
    RepeatedDelivery,
    TryAgain,
    UnknownTarget,
    UsageError,
)
from commands.feature import SLOW, Ask, Deps, Directory, JobResult, JobState, Recorded
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
from commands.limits import check_page_count
from commands.pages import auto_page
from commands.parsing import Escalate, JoinRoom
from commands.permissions import NO_ADMINS, Admins, AdminsUnknown, require
from commands.ports import Clock, IncidentSettings, UnitOfWork, UnitOfWorkFactory
from commands.records import TimelineEvent
from commands.steps import (
    announce_if_public,
    direct_message_each,
    only_if,
    post_once,
    refresh_summary,
    room,
    set_topic,
)
from commands.targets import plan_targets
from commands.views import view_of
from commands.vocabulary import IncidentStatus


class EscalateFeature:
    """`/incident escalate [severity] [@people] [@groups]`."""

    name = "escalate"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: Escalate, ask: Ask, deps: Deps) -> Recorded:
        """Check the people named exist and expand the groups (within the ack's budget), then record."""
        limit = deps.settings.max_paged_per_command
        check_page_count(len(cmd.users) + len(cmd.groups), limit)  # before a single look-up
        paged = list(dict.fromkeys(people_to_page(deps.directory, cmd.users, cmd.groups)))
        check_page_count(len(paged), limit)
        record = partial(
            escalate,
            cmd,
            user_id=ask.user_id,
            channel_id=ask.room,
            paged_users=paged,
            uow=deps.uow,
            clock=deps.clock,
            settings=deps.settings,
            lease=deps.lease,
            admins=deps.admins,
        )
        try:
            scheduled = record()
        except AdminsUnknown:
            deps.admins.refresh_admins()  # only when the admin group alone could allow lowering it
            scheduled = record()
        incident = scheduled.incident
        return Recorded(scheduled=scheduled, reply=partial(_reply, incident.ref, drill=incident.drill))


def _reply(ref: str, result: JobResult, *, drill: bool = False) -> str:
    if drill:
        return f":test_tube: {ref} escalated. It is a drill, so nobody was paged."
    return {
        JobState.DONE: f":rotating_light: {ref} escalated.",
        JobState.PENDING: f":rotating_light: {ref} escalated. Slack is slow: the pages and posts will go "
        "out as soon as it answers.",
        JobState.GAVE_UP: f":warning: {ref} escalated on the timeline, but I could not page everyone.",
        JobState.QUEUED: f":rotating_light: {ref} escalated. The pages and posts are on their way.",
    }[result.state]


class JoinFeature:
    """A page's *Join war room*: invite the person paged for this open incident (again, if they left)."""

    name = "join war room"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: JoinRoom, ask: Ask, deps: Deps) -> Recorded:
        if cmd.incident_id is None or not ask.user_id:
            raise IncidentError("That button does not point at an incident I know; nothing was changed.")
        # The button's value is only a claim: who was paged, and whether it is still open, come from the
        # database. The invite is its own small job, so a click is answered at once and never lost.
        scheduled: Scheduled = room_to_join(
            incident_id=cmd.incident_id,
            user_id=ask.user_id,
            uow=deps.uow,
            clock=deps.clock,
            lease=deps.lease,
            delivery_key=ask.delivery_key,
        )
        return Recorded(scheduled=scheduled, reply=_joined)


def _joined(result: JobResult) -> str | None:
    if result.state is JobState.DONE:
        return f"You are in <#{result.channel_id}>."
    if result.state is JobState.GAVE_UP:
        return None  # told what Slack refused
    return ":hourglass: Slack is slow; you will be added to the war room as soon as it answers."


ESCALATE = EscalateFeature()
JOIN = JoinFeature()


def invite_joiner(ctx: StepContext) -> StepOutcome:
    """Someone paged pressed *Join war room*: add them (again, if they left)."""
    ctx.chat.invite(room(ctx), [ctx.payload["user"]])
    return StepOutcome()


def invite_paged(ctx: StepContext) -> StepOutcome:
    paged = list(ctx.payload.get("paged") or [])
    if paged:
        ctx.chat.invite(room(ctx), paged)
    return StepOutcome()


def page_people(ctx: StepContext) -> StepOutcome:
    room(ctx)
    message = ctx.presenter.page(ctx.incident, ctx.payload["by"])
    return direct_message_each(
        ctx, ctx.payload.get("paged") or [], f"page:{ctx.payload['event_id']}", message
    )


def post_escalation_in_room(ctx: StepContext) -> StepOutcome:
    message = ctx.presenter.escalation(ctx.incident, ctx.payload)
    return post_once(ctx, f"escalation:{ctx.payload['event_id']}", room(ctx), message)


def announce_escalation(ctx: StepContext) -> StepOutcome:
    render = partial(ctx.presenter.escalation_announcement, ctx.incident, ctx.payload)
    purpose = f"escalation_announce:{ctx.payload['event_id']}"
    return announce_if_public(ctx, purpose, render, "escalation", record=False)


PLANS: dict[str, Plan] = {
    JobKind.ESCALATE: [
        ("invite_paged", invite_paged),
        Parallel(
            ("page_people", page_people),
            ("post_escalation", post_escalation_in_room),
            ("announce_escalation", announce_escalation),
            ("refresh_summary", only_if("severity_changed", refresh_summary)),
            ("set_topic", only_if("severity_changed", set_topic)),
        ),
    ],
    JobKind.JOIN: [("invite_joiner", invite_joiner)],
}


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
            plan_targets(incident, settings)  # the new severity's targets, still from the declaration
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
        named = list(dict.fromkeys(u for u in paged_users))
        # A drill records who would have been paged and pages nobody: no DM, no invite.
        paged = [] if incident.drill else named
        touched(incident, now, settings)
        text = _describe(previous, cmd.severity if changed else None, cmd.users, cmd.groups)
        if incident.drill:
            text = f"{text} (a drill: nobody was paged)"
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
                    **({"drill": True, "not_paged": named} if incident.drill else {}),
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
        if incident.drill:
            payload.update(drill=True, not_paged=named)
        fresh = fresh_job(tx, incident.id, JobKind.ESCALATE, payload)
        job = tx.jobs.add(new_job(JobKind.ESCALATE, incident.id, now, lease, payload))
        # A severity with `page` pages its policy (unless a page of it is open); drills note it instead.
        why = f"Escalated to {incident.severity}"
        page_job = auto_page(tx, incident, settings, now=now, lease=lease, why=why) if changed else None
        scheduled = Scheduled(
            view_of(incident, settings.severity_description(incident.severity)),
            job.id,
            (page_job.id,) if page_job else (),
            fresh=fresh,
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
    escalated = tx.timeline.data_of(incident_id, "escalated")
    if any(user_id in data.get("paged", ()) for data in escalated):
        return True
    # Paged by `/incident page` or a policy: their page DM (a group's members too) is recorded.
    pages = tx.pages.list_for(incident_id)
    return any(p.target == user_id or tx.posts.get(incident_id, f"page_dm:{p.id}:{user_id}") for p in pages)


# users.info is Tier 4 and usergroups.users.list Tier 2: a few at a time stays well inside both, and
# bounds the threads one escalation can hold whatever it names (max_paged_per_command caps the rest).
LOOKUP_THREADS = 8


def people_to_page(chat: Directory, users: Sequence[str], groups: Sequence[str]) -> list[str]:
    """The named people, checked to exist, then the named groups' members, in the order named.

    Raises UnknownTarget for the first named person Slack does not know (nothing is recorded yet), and
    whatever a look-up raised (Slack being down) otherwise.
    """
    if not users and not groups:
        return []
    with ThreadPoolExecutor(
        max_workers=min(LOOKUP_THREADS, len(users) + len(groups)), thread_name_prefix="incidentbot-lookup"
    ) as pool:
        known = pool.map(chat.user_exists, users)
        members = pool.map(chat.group_members, groups)
        missing = [user for user, exists in zip(users, list(known), strict=True) if not exists]
        expanded = [member for group in members for member in group]
    if missing:
        raise UnknownTarget(f"I can't find <@{missing[0]}> in this workspace; nothing was changed.")
    return [*users, *expanded]
