"""Severity targets: at 80% of each target and at its breach, the war room hears how long is left or over.

Policy. A severity may set `acknowledge_within`, `mitigate_within` and `resolve_within`; every clock starts
at `declared_at`, and each target ends at its milestone (commands/milestones.py: acknowledged, mitigated;
and resolved). For each target whose milestone is not reached, the room gets a warning at 80% of the
target and a post at its breach; a breach is also a timeline event (warnings are not: the postmortem
judges each target met or missed, and a warning changes neither). A milestone reached before its moment
cancels that moment. A severity change re-plans every moment from `declared_at` with the new severity's
targets; a resolve (or a duplicate) stops them all; a reopen re-plans them, so the resolve target still
counts from the declaration. A target whose breach was announced is never warned or announced again,
whatever later changes; a moment missed while no tick ran (a restart) is acted on late, but a warning
whose breach has also passed is dropped for the breach alone.

`target_due_at` holds the earliest moment still owed: every moment before it has been dealt with. The
tick (wired next to the lifecycle timers) claims each due incident with one conditional UPDATE, and
records the posts' jobs and the breach events in the claim's transaction, so each happens once across
replicas and restarts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from commands.jobs import JobKind, Plan, StepContext, StepOutcome, new_job
from commands.ports import Clock, Message, TargetClock, UnitOfWork, UnitOfWorkFactory
from commands.records import Incident, SlackJob, TimelineEvent
from commands.reminders import TickResult
from commands.steps import post_once
from commands.views import IncidentView
from commands.vocabulary import IncidentStatus

WARNING = "warning"
BREACH = "breach"
BREACH_EVENT = "target_breached"


@dataclass(frozen=True)
class Milestone:
    """What a target waits for: the record's column, and how people say it."""

    column: str
    verb: str  # "left to acknowledge"
    noun: str  # "its 5m acknowledgement target"
    done: str  # "acknowledged after 7m"


# By the config's target names (bot/ops/config.py TARGETS), in milestone order.
MILESTONES: dict[str, Milestone] = {
    "acknowledge_within": Milestone("acknowledged_at", "acknowledge", "acknowledgement", "acknowledged"),
    "mitigate_within": Milestone("mitigated_at", "mitigate", "mitigation", "mitigated"),
    "resolve_within": Milestone("resolved_at", "resolve", "resolution", "resolved"),
}


class TargetSettings(Protocol):
    def targets(self, severity: str) -> dict[str, timedelta]: ...


class TargetPresenter(Protocol):
    def target_warning(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...

    def target_breached(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...


def warning_at(declared_at: datetime, within: timedelta) -> datetime:
    return declared_at + within * 4 / 5


def breach_at(declared_at: datetime, within: timedelta) -> datetime:
    return declared_at + within


def reached(source: object, target: str) -> datetime | None:
    """When the target's milestone was reached (on an incident, its view or a TargetClock); None: not yet."""
    milestone = MILESTONES.get(target)
    return None if milestone is None else cast(datetime | None, getattr(source, milestone.column, None))


def first_due(source: Incident | TargetClock, targets: Mapping[str, timedelta]) -> datetime | None:
    """The earliest warning or breach of the targets whose milestone is not reached; None: nothing owed."""
    moments = [
        moment(source.declared_at, within)
        for name, within in targets.items()
        if reached(source, name) is None
        for moment in (warning_at, breach_at)
    ]
    return min(moments, default=None)


def plan_targets(incident: Incident, settings: TargetSettings) -> None:
    """(Re)plan the incident's target moments from its declaration, with its severity's targets.

    Call it in the transaction that declares, changes the severity or reopens. Moments already past are
    planned too: the tick announces a breach not yet announced, and drops a warning whose breach has passed.
    """
    if incident.status == IncidentStatus.RESOLVED:
        incident.target_due_at = None
        return
    incident.target_due_at = first_due(incident, settings.targets(incident.severity))


def stop_targets(incident: Incident) -> None:
    """A resolved incident (or a duplicate) owes no more warnings or breaches."""
    incident.target_due_at = None


@dataclass(frozen=True)
class Notice:
    """A warning or breach the tick claimed: which target, how long it is, and the moment it fell due."""

    target: str
    kind: str
    within: timedelta
    at: datetime


def notices_due(
    clock: TargetClock, targets: Mapping[str, timedelta], now: datetime, announced: frozenset[str]
) -> list[Notice]:
    """The moments from `clock.due` up to `now`; only the breach of a target whose breach has passed too."""
    notices = []
    for name, within in targets.items():
        if name in announced:
            continue
        done = reached(clock, name)
        warning, breach = warning_at(clock.declared_at, within), breach_at(clock.declared_at, within)
        if clock.due <= breach <= now and (done is None or done > breach):
            notices.append(Notice(name, BREACH, within, breach))
        elif clock.due <= warning <= now < breach and done is None:
            notices.append(Notice(name, WARNING, within, warning))
    return notices


def next_due(
    clock: TargetClock, targets: Mapping[str, timedelta], now: datetime, announced: frozenset[str]
) -> datetime | None:
    """The earliest moment after `now` still owed, once this claim has dealt with everything up to it."""
    moments = [
        moment(clock.declared_at, within)
        for name, within in targets.items()
        if name not in announced and reached(clock, name) is None
        for moment in (warning_at, breach_at)
    ]
    return min((m for m in moments if m > now), default=None)


def _announced(tx: UnitOfWork, incident_id: int) -> frozenset[str]:
    return frozenset(str(data.get("target")) for data in tx.timeline.data_of(incident_id, BREACH_EVENT))


def span(value: timedelta) -> str:
    """A duration as people say it in an incident: 45s, 4m, 1h 5m, 2d 3h (rounded to the minute)."""
    total = max(round(value.total_seconds()), 0)
    if total < 45:
        return f"{total}s"
    minutes = max(round(total / 60), 1)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"


def _seconds(value: timedelta) -> int:
    return max(round(value.total_seconds()), 0)


def target_job(clock: TargetClock, notice: Notice, now: datetime, lease: timedelta) -> SlackJob:
    """The post's job; its payload says what the room is told, as it stood when the moment was claimed."""
    payload: dict[str, Any] = {
        "target": notice.target,
        "target_s": _seconds(notice.within),
        "due": notice.at.isoformat(),
    }
    if notice.kind == WARNING:
        payload["left_s"] = _seconds(breach_at(clock.declared_at, notice.within) - now)
        return new_job(JobKind.TARGET_WARNING, clock.id, now, lease, payload)
    done = reached(clock, notice.target)
    end = done or now
    payload["over_s"] = _seconds(end - notice.at)
    payload["elapsed_s"] = _seconds(end - clock.declared_at)
    payload["reached"] = done is not None
    return new_job(JobKind.TARGET_BREACHED, clock.id, now, lease, payload)


def breach_event(clock: TargetClock, notice: Notice, now: datetime) -> TimelineEvent:
    """The timeline line of a breach, at the moment it was noticed (a restart's late one shows late)."""
    milestone = MILESTONES[notice.target]
    done = reached(clock, notice.target)
    end = done or now
    how = f"{milestone.done} after {span(end - clock.declared_at)}" if done else "not " + milestone.done
    return TimelineEvent(
        incident_id=clock.id,
        kind=BREACH_EVENT,
        actor=None,
        text=f"Missed the {span(notice.within)} {milestone.noun} target ({how})",
        occurred_at=now,
        data={
            "target": notice.target,
            "target_s": _seconds(notice.within),
            "due": notice.at.isoformat(),
            "elapsed_s": _seconds(end - clock.declared_at),
        },
    )


def tick(
    *, uow: UnitOfWorkFactory, clock: Clock, settings: TargetSettings, lease: timedelta, limit: int = 100
) -> TickResult:
    """Claim the due target moments and record their posts (and breach events) in one transaction.

    One indexed read when nothing is due; otherwise, per due incident, one conditional UPDATE (and one
    read of its announced breaches when it has something to post), then one multi-row INSERT per table.
    """
    now = clock.now()
    with uow() as tx:
        due = tx.targets.due(now, limit)
        if not due:
            return TickResult(job_ids=[], due=0)
        jobs: list[SlackJob] = []
        events: list[TimelineEvent] = []
        for row in due:
            resolved = row.status == IncidentStatus.RESOLVED
            targets = {} if resolved else settings.targets(row.severity)
            announced: frozenset[str] = frozenset()
            notices = notices_due(row, targets, now, announced)
            if notices:
                announced = _announced(tx, row.id)
                notices = notices_due(row, targets, now, announced)
            if not tx.targets.claim(row, next_due(row, targets, now, announced)):
                continue  # another replica claimed it, or what it was decided on changed: next tick
            jobs += [target_job(row, notice, now, lease) for notice in notices]
            events += [breach_event(row, n, now) for n in notices if n.kind == BREACH]
        tx.timeline.insert_many(events)
        job_ids = tx.jobs.insert_many(jobs)
        tx.commit()
        return TickResult(job_ids=job_ids, due=len(due))


def _purpose(ctx: StepContext) -> str:
    return f"{ctx.kind}:{ctx.payload['target']}:{ctx.payload['target_s']}"


def post_target_warning(ctx: StepContext) -> StepOutcome:
    """Warn the room; a milestone reached (or a resolve) since the claim makes the warning moot."""
    incident = ctx.incident
    if incident.is_resolved or not incident.channel_id or reached(incident, ctx.payload["target"]):
        return StepOutcome()
    message = cast(TargetPresenter, ctx.presenter).target_warning(incident, ctx.payload)
    return post_once(ctx, _purpose(ctx), incident.channel_id, message)


def post_target_breach(ctx: StepContext) -> StepOutcome:
    """Tell the room the target was missed: still true if the incident was resolved since the claim."""
    if not ctx.incident.channel_id:
        return StepOutcome()
    message = cast(TargetPresenter, ctx.presenter).target_breached(ctx.incident, ctx.payload)
    return post_once(ctx, _purpose(ctx), ctx.incident.channel_id, message)


PLANS: dict[str, Plan] = {
    JobKind.TARGET_WARNING: [("post_target_warning", post_target_warning)],
    JobKind.TARGET_BREACHED: [("post_target_breach", post_target_breach)],
}
