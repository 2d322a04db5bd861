"""Retention queries: find what is past its time through an index, take it, remove it idempotently."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from commands.records import Incident, SlackJob, TimelineEvent
from store.models import PostmortemVersion, incidents, slack_jobs, timeline_events

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
        newest = select(func.max(slack_jobs.c.id)).scalar_subquery()
        stmt = (
            select(slack_jobs.c.id)
            .where(slack_jobs.c.finished_at < cutoff, slack_jobs.c.id < newest)
            .order_by(slack_jobs.c.finished_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(self.session.scalars(stmt))

    def delete_jobs(self, ids: Sequence[int], cutoff: datetime) -> int:
        if not ids:
            return 0
        stmt = delete(SlackJob).where(slack_jobs.c.id.in_(ids), slack_jobs.c.finished_at < cutoff)
        return self.session.execute(stmt, execution_options={"synchronize_session": False}).rowcount  # type: ignore[attr-defined]

    def incidents_to_prune(self, resolved_before: datetime, limit: int) -> list[int]:
        """Incidents resolved before the cutoff whose timeline text is still there, oldest first."""
        stmt = (
            select(incidents.c.id)
            .where(incidents.c.timeline_pruned_at.is_(None), incidents.c.resolved_at < resolved_before)
            .order_by(incidents.c.resolved_at)
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
            .where(incidents.c.id.in_(ids), incidents.c.timeline_pruned_at.is_(None))
            .values(timeline_pruned_at=now)
            .returning(incidents.c.id)
            .execution_options(synchronize_session=False)
        )
        marked = sorted(self.session.scalars(mark))
        if not marked:
            return [], 0
        events = (
            update(TimelineEvent)
            .where(
                timeline_events.c.incident_id.in_(marked),
                timeline_events.c.kind.in_(PRUNED_KINDS),
                timeline_events.c.text != PRUNED_TEXT,
            )
            .values(text=PRUNED_TEXT)
            .execution_options(synchronize_session=False)
        )
        changed = self.session.execute(events).rowcount  # type: ignore[attr-defined]
        # The uploaded drafts keep that text too: emptied, so `export --version` says it was removed.
        versions = (
            update(PostmortemVersion)
            .where(PostmortemVersion.incident_id.in_(marked), PostmortemVersion.markdown != "")
            .values(markdown="")
            .execution_options(synchronize_session=False)
        )
        self.session.execute(versions)
        return marked, changed
