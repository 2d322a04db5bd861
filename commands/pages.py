"""Paging, recorded: the rows of a tier, its timeline line and the job that pages it, in the caller's
transaction; and the tick that pages the next tier when nobody acknowledged in time.

A run is one page of an incident by a policy (or one direct page of people): its pages share a dedup
key (one per incident and policy, so the pager keeps one alert) and a run number. The tier being waited
on keeps its timer on its first row, so one conditional UPDATE claims it exactly once across replicas.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from commands.jobs import JobKind, new_job
from commands.mrkdwn import group_mention, mention
from commands.ports import Clock, EscalationPolicy, IncidentSettings, UnitOfWork, UnitOfWorkFactory
from commands.records import Incident, Page, SlackJob, TimelineEvent
from commands.reminders import TickResult
from commands.vocabulary import IncidentStatus

DIRECT = "direct"
PAGER_SERVICES = ("pagerduty", "opsgenie")


def dedup_key(incident_id: int, policy: str | None) -> str:
    """One pager alert per incident and policy; people paged directly share the incident's "direct" key."""
    return f"incidentbot-inc-{incident_id}-{policy or DIRECT}"


def is_pager(target: str) -> bool:
    return target.split(":", 1)[0] in PAGER_SERVICES and ":" in target


def is_group(target: str) -> bool:
    return target.startswith("S") and not is_pager(target)


def shown(target: str) -> str:
    """A target as the room reads it: a mention for people and groups, the pager target in code."""
    if is_pager(target):
        return f"`{target}`"
    return group_mention(target) if is_group(target) else mention(target)


def listed(targets: Sequence[str]) -> str:
    return ", ".join(shown(t) for t in targets)


def priority_of(severity: str, settings: IncidentSettings) -> int:
    """The pager's priority (1 most urgent .. 5) from the severity's rank."""
    names = settings.severity_names()
    rank = names.index(severity) if severity in names else len(names) - 1
    return min(rank + 1, 5)


def open_run(tx: UnitOfWork, incident_id: int, key: str) -> Page | None:
    """The first page of the key's open run, if one is open."""
    return next(
        (p for p in tx.pages.list_for(incident_id) if p.dedup_key == key and p.closed_at is None), None
    )


def next_run(tx: UnitOfWork, incident_id: int, key: str) -> int:
    return 1 + max((p.run for p in tx.pages.list_for(incident_id) if p.dedup_key == key), default=0)


@dataclass(frozen=True)
class Paged:
    """What recording a page came to: its job and its timeline event."""

    job: SlackJob
    event: TimelineEvent


def page_tier(
    tx: UnitOfWork,
    incident: Incident,
    *,
    policy: str | None,
    key: str,
    run: int,
    round_: int,
    tier: int,
    rounds: int,
    targets: Sequence[str],
    ack_within: timedelta,
    by: str | None,
    now: datetime,
    lease: timedelta,
    notice: str,
    kind: str,
    settings: IncidentSettings,
) -> Paged:
    """Record one tier's pages (its timer on the first), the timeline line and the job that pages it."""
    rows = [
        Page(
            incident_id=incident.id,
            policy=policy,
            dedup_key=key,
            run=run,
            round=round_,
            tier=tier,
            rounds=rounds,
            target=target,
            paged_by=by,
            paged_at=now,
            ack_due_at=now + ack_within if position == 0 else None,
        )
        for position, target in enumerate(dict.fromkeys(targets))
    ]
    tx.pages.insert_many(rows)
    data: dict[str, Any] = {
        "policy": policy,
        "run": run,
        "round": round_,
        "tier": tier,
        "targets": [r.target for r in rows],
        "page_ids": [r.id for r in rows],
    }
    event = tx.timeline.add(
        TimelineEvent(incident_id=incident.id, kind=kind, actor=by, text=notice, occurred_at=now, data=data)
    )
    tx.flush()
    payload: dict[str, Any] = {
        "event_id": event.id,
        "by": by,
        "key": key,
        "policy": policy,
        "run": run,
        "round": round_,
        "tier": tier,
        "notice": notice,
        "people": [[r.id, r.target] for r in rows if not is_pager(r.target) and not is_group(r.target)],
        "groups": [[r.id, r.target] for r in rows if is_group(r.target)],
        "pagers": [[r.id, r.target] for r in rows if is_pager(r.target)],
        "priority": priority_of(incident.severity, settings),
    }
    return Paged(job=tx.jobs.add(new_job(JobKind.PAGE, incident.id, now, lease, payload)), event=event)


def duration_words(value: timedelta) -> str:
    """A wait as people say it: 90s, 5m, 1h30m."""
    total = max(int(value.total_seconds()), 0)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [(hours, "h"), (minutes, "m"), (seconds, "s")]
    return "".join(f"{amount}{unit}" for amount, unit in parts if amount) or "0s"


def start_policy(
    tx: UnitOfWork,
    incident: Incident,
    policy: EscalationPolicy,
    *,
    by: str | None,
    now: datetime,
    lease: timedelta,
    settings: IncidentSettings,
    why: str,
) -> Paged:
    """Page a policy's first tier (the caller checked no run of it is open)."""
    key = dedup_key(incident.id, policy.name)
    first = policy.tiers[0]
    who = f"{mention(by)} paged" if by else f"{why}: paging"
    notice = f"{who} *{policy.name}*, tier 1 ({listed(first.notify)})"
    return page_tier(
        tx,
        incident,
        policy=policy.name,
        key=key,
        run=next_run(tx, incident.id, key),
        round_=1,
        tier=1,
        rounds=policy.repeat + 1,
        targets=first.notify,
        ack_within=first.ack_within,
        by=by,
        now=now,
        lease=lease,
        notice=notice,
        kind="paged",
        settings=settings,
    )


def auto_page(
    tx: UnitOfWork,
    incident: Incident,
    settings: IncidentSettings,
    *,
    now: datetime,
    lease: timedelta,
    why: str,
) -> SlackJob | None:
    """Page the severity's policy unless a run of it is open; a drill gets a timeline note instead.

    Returns the page's job (claimed by the caller's process), None when nothing is to be paged.
    """
    name = settings.severity_page(incident.severity)
    policy = settings.escalation_policy(name) if name else None
    if policy is None or open_run(tx, incident.id, dedup_key(incident.id, policy.name)) is not None:
        return None
    if incident.drill:
        tx.timeline.add(
            TimelineEvent(
                incident_id=incident.id,
                kind="page_skipped",
                text=f"Did not page *{policy.name}*: this is a drill",
                occurred_at=now,
                data={"policy": policy.name, "drill": True},
            )
        )
        return None
    paged = start_policy(tx, incident, policy, by=None, now=now, lease=lease, settings=settings, why=why)
    return paged.job


def stop_pages(tx: UnitOfWork, incident: Incident, now: datetime, lease: timedelta) -> SlackJob | None:
    """The incident is resolved: open pages stop escalating, and its pager alerts are resolved by a job."""
    rows = tx.pages.list_for(incident.id)
    if not rows:
        return None
    tx.pages.close_incident(incident.id, now)
    alerts = sorted({(p.target, p.dedup_key) for p in rows if is_pager(p.target)})
    if not alerts:
        return None
    payload = {"alerts": [list(a) for a in alerts]}
    return tx.jobs.add(new_job(JobKind.PAGE_RESOLVE, incident.id, now, lease, payload))


def tick(
    *, uow: UnitOfWorkFactory, clock: Clock, settings: IncidentSettings, lease: timedelta, limit: int = 100
) -> TickResult:
    """Claim the tiers whose acknowledgement is late and record what follows, in one transaction.

    The next tier is paged; after the last tier, the next round from tier 1 while the policy's `repeat`
    allows; then the room hears nobody acknowledged. Each claim acts once across replicas.
    """
    now = clock.now()
    with uow() as tx:
        due = dict(tx.pages.due(now, limit))
        if not due:
            return TickResult(job_ids=[], due=0)
        claimed = tx.pages.claim(list(due), now)
        job_ids: list[int] = []
        for page_id in sorted(claimed):
            lead = tx.pages.get(page_id)
            assert lead is not None
            job = _timed_out(tx, lead, due[page_id], settings, now, lease)
            if job is not None:
                job_ids.append(job.id)
        tx.commit()
        return TickResult(job_ids=job_ids, due=len(due))


def _timed_out(
    tx: UnitOfWork, lead: Page, due: datetime, settings: IncidentSettings, now: datetime, lease: timedelta
) -> SlackJob | None:
    incident = tx.incidents.get(lead.incident_id)
    assert incident is not None, "pages cascade with their incident"
    run = tx.pages.run_of(lead.incident_id, lead.dedup_key, lead.run)
    if incident.status == IncidentStatus.RESOLVED or any(p.acknowledged_at for p in run):
        # Acknowledged while this tier was being paged (the acknowledgement could not see its rows).
        tx.pages.close_run(lead.incident_id, lead.dedup_key, lead.run, now)
        return None
    waited = [p.target for p in run if p.round == lead.round and p.tier == lead.tier]
    late = f"No acknowledgement from {listed(waited)} in {duration_words(due - lead.paged_at)}"
    policy = settings.escalation_policy(lead.policy) if lead.policy else None
    step = _next_step(lead, policy)
    if policy is None or step is None:
        tx.pages.close_run(lead.incident_id, lead.dedup_key, lead.run, now)
        what = f"the page of *{lead.policy}*" if lead.policy else "the page"
        if lead.policy and policy is None:
            what += " (the policy is no longer configured)"
        notice = f"{late}: nobody acknowledged {what}."
        event = tx.timeline.add(
            TimelineEvent(
                incident_id=incident.id,
                kind="page_unanswered",
                text=notice,
                occurred_at=now,
                data={"policy": lead.policy, "run": lead.run, "round": lead.round, "tier": lead.tier},
            )
        )
        tx.flush()
        payload = {"event_id": event.id, "notice": notice, "key": lead.dedup_key, "run": lead.run}
        return tx.jobs.add(new_job(JobKind.PAGE, incident.id, now, lease, payload))
    round_, tier = step
    targets = policy.tiers[tier - 1]
    again = f" again (round {round_} of {lead.rounds})" if round_ > lead.round else ""
    notice = f"{late}: paging tier {tier}{again} ({listed(targets.notify)})"
    paged = page_tier(
        tx,
        incident,
        policy=policy.name,
        key=lead.dedup_key,
        run=lead.run,
        round_=round_,
        tier=tier,
        rounds=lead.rounds,
        targets=targets.notify,
        ack_within=targets.ack_within,
        by=None,
        now=now,
        lease=lease,
        notice=notice,
        kind="page_escalated",
        settings=settings,
    )
    return paged.job


def _next_step(lead: Page, policy: EscalationPolicy | None) -> tuple[int, int] | None:
    """(round, tier) paged after this tier times out; None when the run is over."""
    if policy is None:
        return None
    if lead.tier < len(policy.tiers):
        return lead.round, lead.tier + 1
    if lead.round < lead.rounds:
        return lead.round + 1, 1
    return None
