"""The lifecycle timers' tick: claim the stale nudges and room archives that are due, once across replicas."""

from __future__ import annotations

from datetime import timedelta

from commands.archive import archive_job
from commands.ports import Clock, IncidentSettings, UnitOfWorkFactory
from commands.records import SlackJob, TimelineEvent
from commands.reminders import TickResult
from commands.stale import stale_job


def tick(
    *, uow: UnitOfWorkFactory, clock: Clock, settings: IncidentSettings, lease: timedelta, limit: int = 100
) -> TickResult:
    """Claim what is due and record its jobs in one transaction.

    The cost follows what is due: two indexed reads when nothing is; otherwise one conditional UPDATE per
    timer, one read of the claimed incidents and one multi-row INSERT per table.
    """
    now = clock.now()
    with uow() as tx:
        due_stale = dict(tx.timers.due_stale(now, limit))
        due_archives = dict(tx.timers.due_archives(now, limit))
        if not due_stale and not due_archives:
            return TickResult(job_ids=[], due=0)
        # However late we are (a restart), one nudge now and the next a full `stale_after` later.
        next_due = {name: now + settings.stale_after(name) for name in settings.severity_names()}
        fallback = now + settings.stale_after(settings.severity_names()[-1])
        stale = tx.timers.claim_stale(list(due_stale), now, next_due, fallback)
        archives = tx.timers.claim_archives(list(due_archives), now)
        tx.timers.clear_unclaimed(
            [i for i in due_stale if i not in stale], [i for i in due_archives if i not in archives]
        )
        incidents = {i.id: i for i in tx.incidents.get_many([*stale, *archives])}
        jobs: list[SlackJob] = []
        events: list[TimelineEvent] = []
        for incident_id in sorted(stale):
            job, event = stale_job(incidents[incident_id], due_stale[incident_id], now, lease)
            jobs.append(job)
            events.append(event)
        jobs += [archive_job(incidents[i], due_archives[i], now, lease) for i in sorted(archives)]
        tx.timeline.insert_many(events)
        job_ids = tx.jobs.insert_many(jobs)
        tx.commit()
        return TickResult(job_ids=job_ids, due=len(due_stale) + len(due_archives))
