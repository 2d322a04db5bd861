"""Retention queries: find what is past its time through an index, take it, remove it idempotently."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from store.models import Incident, SlackJob, TimelineEvent

# The timeline entries that copy people's words from chat (pinned messages, often holding secrets) or
# hold free text nobody published (notes). Updates went to stakeholders and stay, as do action items.
PRUNED_KINDS = ("pinned", "note")
PRUNED_TEXT = "[removed by the retention policy]"


class RetentionRepository:
    """Every read takes its rows with `FOR UPDATE SKIP LOCKED` (ignored by SQLite, which has one writer),
    so replicas pruning at once share the work, and every write re-checks its condition, so repeating
    one changes nothing."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def finished_jobs_before(self, cutoff: datetime, limit: int) -> list[int]:
        """Finished jobs older than `cutoff`, oldest first, except the newest job of all.

        SQLite gives a new row the largest id plus one, so deleting the newest job would let the next
        job reuse its id, and posts recorded as `postmortem:<job id>` would then hide a new draft.
        """
        newest = select(func.max(SlackJob.id)).scalar_subquery()
        stmt = (
            select(SlackJob.id)
            .where(SlackJob.finished_at < cutoff, SlackJob.id < newest)
            .order_by(SlackJob.finished_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(self.session.scalars(stmt))

    def delete_jobs(self, ids: Sequence[int], cutoff: datetime) -> int:
        if not ids:
            return 0
        stmt = delete(SlackJob).where(SlackJob.id.in_(ids), SlackJob.finished_at < cutoff)
        return self.session.execute(stmt).rowcount  # type: ignore[attr-defined]

    def incidents_to_prune(self, resolved_before: datetime, limit: int) -> list[int]:
        """Incidents resolved before the cutoff whose timeline text is still there, oldest first."""
        stmt = (
            select(Incident.id)
            .where(Incident.timeline_pruned_at.is_(None), Incident.resolved_at < resolved_before)
            .order_by(Incident.resolved_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(self.session.scalars(stmt))

    def prune_timeline_text(self, ids: Sequence[int], now: datetime) -> tuple[list[int], int]:
        """Mark the incidents still unpruned among `ids` and replace their pruned kinds' text.

        Returns the incidents this call marked (another process may have been first) and how many
        entries changed. The entries keep kind, author, time, link and data: timelines keep their shape.
        """
        if not ids:
            return [], 0
        mark = (
            update(Incident)
            .where(Incident.id.in_(ids), Incident.timeline_pruned_at.is_(None))
            .values(timeline_pruned_at=now)
            .returning(Incident.id)
            .execution_options(synchronize_session=False)
        )
        marked = sorted(self.session.scalars(mark))
        if not marked:
            return [], 0
        events = (
            update(TimelineEvent)
            .where(
                TimelineEvent.incident_id.in_(marked),
                TimelineEvent.kind.in_(PRUNED_KINDS),
                TimelineEvent.text != PRUNED_TEXT,
            )
            .values(text=PRUNED_TEXT)
            .execution_options(synchronize_session=False)
        )
        return marked, self.session.execute(events).rowcount  # type: ignore[attr-defined]
