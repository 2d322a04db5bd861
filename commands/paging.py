"""`/incident page` and acknowledging a page, from its DM's *Acknowledge* or from the pager itself."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from commands.errors import AlreadyResolved, IncidentError, RepeatedDelivery, UsageError
from commands.escalate import people_to_page
from commands.feature import SLOW, Ask, Deps, JobResult, JobState, Recorded
from commands.incidents import Scheduled, incident_in_room
from commands.jobs import JobKind, fresh_job, new_job
from commands.limits import check_page_count
from commands.milestones import mark_page_acknowledged
from commands.mrkdwn import escape, mention
from commands.pages import (
    dedup_key,
    is_pager,
    listed,
    next_run,
    open_run,
    page_tier,
    start_policy,
)
from commands.paging_steps import SERVICE_NAMES
from commands.parsing import AcknowledgePage, PageTargets
from commands.ports import Clock, IncidentSettings, UnitOfWork, UnitOfWorkFactory
from commands.records import Page, SlackJob, TimelineEvent
from commands.views import view_of
from commands.vocabulary import IncidentStatus


class PageFeature:
    """`/incident page <policy | @user | @group>...` in a war room."""

    name = "page"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: PageTargets, ask: Ask, deps: Deps) -> Recorded:
        settings = deps.settings
        unknown = [p for p in cmd.policies if settings.escalation_policy(p) is None]
        if unknown:
            known = ", ".join(f"`{n}`" for n in settings.policy_names()) or "none are configured"
            raise UsageError(
                f"`{escape(unknown[0])}` is not an escalation policy (configured: {known}); "
                "nothing was changed."
            )
        limit = settings.max_paged_per_command
        check_page_count(len(cmd.users) + len(cmd.groups), limit)
        people = list(dict.fromkeys(people_to_page(deps.directory, cmd.users, cmd.groups)))
        check_page_count(len(people), limit)
        scheduled, said = page(
            cmd,
            people=people,
            user_id=ask.user_id,
            channel_id=ask.room,
            uow=deps.uow,
            clock=deps.clock,
            settings=settings,
            lease=deps.lease,
        )
        return Recorded(scheduled=scheduled, reply=partial(_paged_reply, said))


def _paged_reply(said: str, result: JobResult) -> str:
    if result.state is JobState.DONE:
        return said
    if result.state is JobState.GAVE_UP:
        return f"{said} Not every page could be delivered: the room has the details."
    return f"{said} The pages are on their way."


def page(
    cmd: PageTargets,
    *,
    people: list[str],
    user_id: str,
    channel_id: str,
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: IncidentSettings,
    lease: timedelta,
) -> tuple[Scheduled, str]:
    """Record the pages (a run per policy, one for the people named), their timeline lines and jobs.

    Raises NotInWarRoom, AlreadyResolved, UsageError (every policy named is already being paged).
    """
    with uow() as tx:
        incident = incident_in_room(tx, channel_id, for_update=True)
        now = clock.now()
        if incident.status == IncidentStatus.RESOLVED:
            raise AlreadyResolved(f"{incident.ref} is resolved; nobody was paged.")
        named = [*cmd.policies, *(mention(p) for p in people)]
        if incident.drill:
            tx.timeline.add(
                TimelineEvent(
                    incident_id=incident.id,
                    kind="page_skipped",
                    actor=user_id,
                    text="Did not page " + ", ".join(named) + ": this is a drill",
                    occurred_at=now,
                    data={"policies": list(cmd.policies), "people": people, "drill": True},
                )
            )
            tx.commit()
            return Scheduled(
                view_of(incident), None
            ), f":test_tube: {incident.ref} is a drill, so nobody was paged."
        jobs: list[SlackJob] = []
        already: list[str] = []
        for name in cmd.policies:
            policy = settings.escalation_policy(name)
            assert policy is not None  # checked before recording
            running = open_run(tx, incident.id, dedup_key(incident.id, name))
            if running is not None:
                already.append(name)
                continue
            paged = start_policy(
                tx, incident, policy, by=user_id, now=now, lease=lease, settings=settings, why=""
            )
            jobs.append(paged.job)
        if people:
            key = dedup_key(incident.id, None)
            paged = page_tier(
                tx,
                incident,
                policy=None,
                key=key,
                run=next_run(tx, incident.id, key),
                round_=1,
                tier=1,
                rounds=1,
                targets=people,
                ack_within=settings.page_ack_within,
                by=user_id,
                now=now,
                lease=lease,
                notice=f"{mention(user_id)} paged {listed(people)}",
                kind="paged",
                settings=settings,
            )
            jobs.append(paged.job)
        if not jobs:
            raise UsageError(
                f"{', '.join(f'*{escape(n)}*' for n in already)} is already being paged for {incident.ref} "
                "and nobody has acknowledged yet; nothing was changed."
            )
        first, *rest = jobs
        fresh = fresh_job(tx, incident.id, JobKind.PAGE, dict(first.payload))
        tx.commit()
        started = [f"*{escape(n)}*" for n in cmd.policies if n not in already] + [mention(p) for p in people]
        said = f":rotating_light: Paged {', '.join(started)} for {incident.ref}."
        if already:
            said += f" {', '.join(escape(n) for n in already)} was already being paged."
        view = view_of(incident, settings.severity_description(incident.severity))
        return Scheduled(view, first.id, tuple(j.id for j in rest), fresh=fresh), said


class NotYours(IncidentError):
    """Someone pressed *Acknowledge* on a page that was not sent to them; nothing changes."""


class AlreadyAcknowledged(IncidentError):
    """The page was acknowledged first by someone else (or by this person before); nothing changes."""


class AcknowledgeFeature:
    """A page DM's *Acknowledge*: only someone that page was sent to (a member of a paged group too)."""

    name = "acknowledge the page"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: AcknowledgePage, ask: Ask, deps: Deps) -> Recorded:
        if cmd.page_id is None or not ask.user_id:
            raise IncidentError("That button does not point at a page I know; nothing was changed.")
        with deps.uow() as tx:
            found = tx.pages.get(cmd.page_id)
            allowed = found is not None and _sent_to(tx, found, ask.user_id)
            group = found.target if found is not None and found.target.startswith("S") else None
        # A group's member may acknowledge its page: asked of Slack outside any transaction.
        if found is not None and not allowed and group is not None:
            allowed = ask.user_id in deps.directory.group_members(group)
        if found is None or not allowed:
            raise NotYours(
                "That page was not sent to you, so you cannot acknowledge it; nothing was changed."
            )
        scheduled = acknowledge(
            cmd.page_id,
            who=ask.user_id,
            via="slack",
            uow=deps.uow,
            clock=deps.clock,
            lease=deps.lease,
            delivery_key=ask.delivery_key,
        )
        ref = scheduled.incident.ref
        return Recorded(
            scheduled=scheduled, reply=lambda _r: f":white_check_mark: You acknowledged the page for {ref}."
        )


PAGE = PageFeature()
ACKNOWLEDGE = AcknowledgeFeature()


def _sent_to(tx: UnitOfWork, page: Page, user: str) -> bool:
    if page.target == user:
        return True
    purpose = f"page_dm:{page.id}:{user}"
    return tx.posts.get(page.incident_id, purpose) is not None


def acknowledge(
    page_id: int,
    *,
    who: str,
    via: str,
    uow: UnitOfWorkFactory,
    clock: Clock,
    lease: timedelta,
    delivery_key: str | None = None,
    queued: bool = False,
) -> Scheduled:
    """Record the acknowledgement: the run stops, the room, the DMs and (from Slack) the pager are told.

    The first acknowledgement of a run wins; raises AlreadyAcknowledged, IncidentError (closed) otherwise.
    """
    with uow() as tx:
        found = tx.pages.get(page_id)
        assert found is not None
        incident = tx.incidents.get(found.incident_id, for_update=True)  # acknowledgements queue here
        assert incident is not None
        now = clock.now()
        run = tx.pages.run_of(incident.id, found.dedup_key, found.run)
        page = next(p for p in run if p.id == page_id)
        first = next((p for p in run if p.acknowledged_at is not None), None)
        if first is not None:
            raise AlreadyAcknowledged(
                f"{_who(first.acknowledged_by, first.acknowledged_via)} already acknowledged this page of "
                f"{incident.ref}; nothing was changed."
            )
        if page.closed_at is not None:
            why = "is resolved" if incident.status == IncidentStatus.RESOLVED else "was not answered in time"
            raise IncidentError(
                f"This page of {incident.ref} is closed (the incident {why}); nothing was changed."
            )
        if delivery_key is not None and not tx.deliveries.first_time(delivery_key, now):
            raise RepeatedDelivery(delivery_key)
        earlier = any(p.acknowledged_at is not None for p in tx.pages.list_for(incident.id))
        page.acknowledged_at, page.acknowledged_by, page.acknowledged_via = now, who, via
        tx.pages.close_run(incident.id, page.dedup_key, page.run, now)
        mark_page_acknowledged(incident, now, first=not earlier)
        what = f"the page of *{page.policy}*" if page.policy else "the page"
        text = f"{_who(who, via)} acknowledged {what} (tier {page.tier})"
        event = tx.timeline.add(
            TimelineEvent(
                incident_id=incident.id,
                kind="page_acknowledged",
                actor=who if via == "slack" else None,
                text=text,
                occurred_at=now,
                data=_ack_data(page),
            )
        )
        tx.flush()
        pagers = [] if via != "slack" else sorted({p.target for p in run if is_pager(p.target)})
        payload: dict[str, Any] = {
            "event_id": event.id,
            "page_id": page.id,
            "page_ids": [p.id for p in run],
            "key": page.dedup_key,
            "notice": f":white_check_mark: {text}",
            "by": who,
            "via": via,
            "tier": page.tier,
            "pagers": pagers,
        }
        job = new_job(JobKind.PAGE_ACK, incident.id, now, lease, payload)
        if queued:  # for the workers: the process recording it does not run jobs (a webhook)
            job.claimed_until, job.attempts = None, 0
        tx.jobs.add(job)
        scheduled = Scheduled(view_of(incident), job.id)
        tx.commit()
        return scheduled


def _ack_data(page: Page) -> dict[str, Any]:
    return {
        "page_id": page.id,
        "policy": page.policy,
        "run": page.run,
        "round": page.round,
        "tier": page.tier,
        "by": page.acknowledged_by,
        "via": page.acknowledged_via,
    }


def _who(who: str | None, via: str | None) -> str:
    if via == "slack":
        return mention(who)
    return f"{escape(who or 'Someone')} (in {SERVICE_NAMES.get(via or '', escape(via or 'the pager'))})"


def acknowledge_from_pager(
    service: str, dedup_key: str, who: str, *, uow: UnitOfWorkFactory, clock: Clock, lease: timedelta
) -> bool:
    """A pager says someone acknowledged its alert: record it as from Slack, minus acknowledging the pager.

    True when it acknowledged an open page of that key; False when the key is unknown, or its run is
    already acknowledged or closed (nothing changes).
    """
    with uow() as tx:
        candidates = [p.id for p in tx.pages.open_by_key(dedup_key) if p.target.startswith(f"{service}:")]
    if service not in SERVICE_NAMES or not candidates:
        return False
    try:
        acknowledge(
            candidates[-1], who=who[:200], via=service, uow=uow, clock=clock, lease=lease, queued=True
        )
    except IncidentError:
        return False
    return True
