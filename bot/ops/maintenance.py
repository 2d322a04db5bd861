"""Housekeeping the periodic tick runs: forget expired Slack deliveries, apply the retention settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.ops.config import RetentionConfig
from commands.ports import Clock
from store.retention import RetentionRepository
from store.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

# Slack retries a delivery three times within about five minutes; an hour leaves a wide margin.
DELIVERY_RETENTION = timedelta(hours=1)
# Bounded work per tick, so a backlog (retention switched on over years of history) is worked off over
# a few ticks instead of holding one long transaction, and a tick stays short whatever is due.
JOB_BATCH = 500
INCIDENT_BATCH = 20

UnitOfWork = Callable[[], SqlUnitOfWork]


def expire_deliveries(uow: UnitOfWork, clock: Clock, older_than: timedelta = DELIVERY_RETENTION) -> int:
    """Delete delivery records past the retry window so the table stays small; returns how many."""
    with uow() as tx:
        removed = tx.deliveries.expire(clock.now() - older_than)
        tx.commit()
    if removed:
        log.debug("expired %s processed deliveries", removed)
    return removed


@dataclass(frozen=True)
class Pruned:
    """What one pruning pass removed."""

    jobs: int = 0
    incidents: int = 0
    entries: int = 0


def prune(uow: UnitOfWork, clock: Clock, retention: RetentionConfig) -> Pruned:
    """Apply retention, a bounded batch at a time; with nothing due it costs one index probe per setting."""
    jobs = 0 if retention.finished_jobs is None else delete_finished_jobs(uow, clock, retention.finished_jobs)
    if retention.timeline_text is None:
        return Pruned(jobs=jobs)
    incidents, entries = prune_timeline_text(uow, clock, retention.timeline_text)
    return Pruned(jobs=jobs, incidents=incidents, entries=entries)


def delete_finished_jobs(uow: UnitOfWork, clock: Clock, keep: timedelta, limit: int = JOB_BATCH) -> int:
    """Delete finished Slack jobs (payloads, errors) older than `keep`, oldest first; returns how many."""
    cutoff = clock.now() - keep
    with uow() as tx:
        repo = RetentionRepository(tx.session)
        removed = repo.delete_jobs(repo.finished_jobs_before(cutoff, limit), cutoff)
        tx.commit()
    if removed:
        log.debug("retention: deleted %s finished Slack job(s)", removed)
    return removed


def prune_timeline_text(
    uow: UnitOfWork, clock: Clock, keep: timedelta, limit: int = INCIDENT_BATCH
) -> tuple[int, int]:
    """Replace pinned-message and note text of incidents resolved over `keep` ago; (incidents, entries)."""
    now = clock.now()
    with uow() as tx:
        repo = RetentionRepository(tx.session)
        marked, entries = repo.prune_timeline_text(repo.incidents_to_prune(now - keep, limit), now)
        tx.commit()
    if marked:
        refs = ", ".join(f"INC-{i}" for i in marked)
        log.info("retention: removed the text of %s pinned message(s) and note(s) of %s", entries, refs)
    return len(marked), entries
