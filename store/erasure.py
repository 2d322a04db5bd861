"""Erasure on request: replace a person's words wherever the bot keeps them, and drop their name for good."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from commands.jobs import JobKind
from commands.mrkdwn import escape
from store.models import (
    ActionItem,
    Incident,
    Page,
    Person,
    PostmortemVersion,
    RoleAssignment,
    SlackJob,
    TimelineEvent,
    action_items,
    incidents,
    pages,
    role_assignments,
    slack_jobs,
    timeline_events,
)
from store.retention import PRUNED_TEXT

FORGOTTEN_TEXT = "[removed at the request of the person]"
# Timeline kinds whose text the actor wrote: notes, updates, action items, a resolution's summary, and
# pins, whose actor is the message's author (pinning someone else's message does not make it yours).
AUTHORED_KINDS = ("note", "pinned", "update_posted", "action_item", "resolved")
RESOLVED_PREFIX = "Resolved: "
GONE = (FORGOTTEN_TEXT, PRUNED_TEXT, RESOLVED_PREFIX + FORGOTTEN_TEXT)


@dataclass(frozen=True)
class Erasure:
    """What forgetting one person changed, and what of theirs stays (their member id, by design)."""

    name_removed: bool
    forgotten_before: datetime | None
    timeline_entries: int
    action_items: int
    resolution_summaries: int
    job_payloads: int
    references_kept: int
    postmortem_versions: int = 0  # uploaded drafts that showed them, emptied (export --version says so)
    # Pages acknowledged in PagerDuty or Opsgenie under one of their names: the pager gives a display
    # name, not a member id, so it is matched by name (their Slack name, and any the request gives).
    pager_acknowledgements: int = 0

    @property
    def changed(self) -> int:
        return (
            int(self.name_removed)
            + self.timeline_entries
            + self.action_items
            + self.resolution_summaries
            + self.job_payloads
            + self.postmortem_versions
            + self.pager_acknowledgements
        )

    @property
    def found(self) -> bool:
        return self.forgotten_before is not None or self.changed > 0 or self.references_kept > 0


class ErasureRepository:
    """Member ids stay where they say who did what (actors, roles, owners); only words and names go."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def forget(self, user_id: str, now: datetime, *, other_names: Sequence[str] = ()) -> Erasure:
        """Replace the person's text and name in this transaction; repeating it changes nothing more.

        `other_names` are names they go by elsewhere (a pager's display name), erased where a pager
        reported them as the one who acknowledged a page.
        """
        person = self.session.get(Person, user_id)
        before = person.forgotten_at if person is not None else None
        slack_name = person.name if person and before is None and person.name != user_id else None
        names = [n.strip() for n in (slack_name, *other_names) if n and n.strip()]
        # Before their words are replaced: the drafts they appear in are found by what they did.
        versions = self._postmortem_versions(user_id, names)
        erasure = Erasure(
            name_removed=person is not None and before is None,
            forgotten_before=before,
            timeline_entries=self._timeline(user_id),
            action_items=self._action_items(user_id),
            resolution_summaries=self._resolution_summaries(user_id),
            job_payloads=self._update_payloads(user_id),
            references_kept=self._references(user_id),
            postmortem_versions=versions,
            pager_acknowledgements=self._pager_acknowledgements(names),
        )
        if erasure.found and before is None:
            # The row stays as a marker: the id shows as itself, and Slack is never asked for the name again.
            self.session.merge(Person(user_id=user_id, name=user_id, forgotten_at=now))
        return erasure

    def _timeline(self, user_id: str) -> int:
        stmt = select(TimelineEvent).where(
            timeline_events.c.actor == user_id,
            timeline_events.c.kind.in_(AUTHORED_KINDS),
            timeline_events.c.text.not_in(GONE),
        )
        changed = 0
        for entry in list(self.session.scalars(stmt)):
            if entry.kind == "resolved":
                if not entry.text.startswith(RESOLVED_PREFIX):
                    continue  # a plain "Resolved" carries no words of theirs
                entry.text = RESOLVED_PREFIX + FORGOTTEN_TEXT
            else:
                entry.text = FORGOTTEN_TEXT
            if entry.kind == "action_item" and entry.data and "item" in entry.data:
                entry.data = {**entry.data, "item": FORGOTTEN_TEXT}
            changed += 1
        return changed

    def _action_items(self, user_id: str) -> int:
        stmt = (
            update(ActionItem)
            .where(action_items.c.created_by == user_id, action_items.c.text != FORGOTTEN_TEXT)
            .values(text=FORGOTTEN_TEXT)
            .execution_options(synchronize_session=False)
        )
        return self.session.execute(stmt).rowcount  # type: ignore[attr-defined]

    def _resolution_summaries(self, user_id: str) -> int:
        stmt = (
            update(Incident)
            .where(
                incidents.c.resolved_by == user_id,
                incidents.c.resolution_summary.is_not(None),
                incidents.c.resolution_summary != FORGOTTEN_TEXT,
            )
            .values(resolution_summary=FORGOTTEN_TEXT)
            .execution_options(synchronize_session=False)
        )
        return self.session.execute(stmt).rowcount  # type: ignore[attr-defined]

    def _update_payloads(self, user_id: str) -> int:
        """Stakeholder updates wait in (and finished ones stay in) their job's payload until retention."""
        stmt = select(SlackJob).where(
            slack_jobs.c.kind == JobKind.UPDATE, slack_jobs.c.payload["by"].as_string() == user_id
        )
        changed = 0
        for job in list(self.session.scalars(stmt)):
            if job.payload.get("message") not in (None, FORGOTTEN_TEXT):
                job.payload = {**job.payload, "message": FORGOTTEN_TEXT}
                changed += 1
        return changed

    def _pager_acknowledgements(self, names: Sequence[str]) -> int:
        """A page acknowledged in a pager under one of these names: the page's acknowledger, its timeline
        entry (text and data) and its job's notice say FORGOTTEN_TEXT instead; matched case-insensitively."""
        wanted = {name.casefold() for name in names}
        if not wanted:
            return 0
        acknowledged = select(Page).where(
            pages.c.acknowledged_via.is_not(None),
            pages.c.acknowledged_via != "slack",
            func.lower(pages.c.acknowledged_by).in_(sorted(wanted)),
        )
        rows = self.session.scalars(acknowledged)
        found = [page for page in rows if (page.acknowledged_by or "").casefold() in wanted]
        for page in found:
            page.acknowledged_by = FORGOTTEN_TEXT
        if not found:
            return 0
        # Only those pages' incidents hold the entry and the job that repeat the name.
        where = sorted({page.incident_id for page in found})
        entries = select(TimelineEvent).where(
            timeline_events.c.incident_id.in_(where),
            timeline_events.c.kind == "page_acknowledged",
            timeline_events.c.actor.is_(None),
        )
        for entry in list(self.session.scalars(entries)):
            by = (entry.data or {}).get("by")
            if isinstance(by, str) and by.casefold() in wanted:
                entry.text = entry.text.replace(escape(by), FORGOTTEN_TEXT, 1)
                entry.data = {**(entry.data or {}), "by": FORGOTTEN_TEXT}
        jobs = select(SlackJob).where(
            slack_jobs.c.incident_id.in_(where), slack_jobs.c.kind == JobKind.PAGE_ACK
        )
        for job in list(self.session.scalars(jobs)):
            by = job.payload.get("by")
            if job.payload.get("via") != "slack" and isinstance(by, str) and by.casefold() in wanted:
                notice = str(job.payload.get("notice", "")).replace(escape(by), FORGOTTEN_TEXT, 1)
                job.payload = {**job.payload, "by": FORGOTTEN_TEXT, "notice": notice}
        return len(found)

    def _postmortem_versions(self, user_id: str, names: Sequence[str]) -> int:
        """Empty the stored drafts of incidents they acted in, or that name them: those keep their words."""
        acted = (
            select(timeline_events.c.incident_id).where(timeline_events.c.actor == user_id).distinct()
        ).union(
            select(action_items.c.incident_id).where(
                or_(action_items.c.owner == user_id, action_items.c.created_by == user_id)
            )
        )
        named = [PostmortemVersion.markdown.contains(user_id, autoescape=True)]
        named += [PostmortemVersion.markdown.contains(name, autoescape=True) for name in names]
        stmt = (
            update(PostmortemVersion)
            .where(PostmortemVersion.markdown != "", or_(PostmortemVersion.incident_id.in_(acted), *named))
            .values(markdown="")
            .execution_options(synchronize_session=False)
        )
        return int(self.session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]

    def _references(self, user_id: str) -> int:
        """Records that keep the member id: incidents, roles, timeline entries and action items."""
        counts = (
            select(func.count())
            .select_from(Incident)
            .where(or_(incidents.c.declared_by == user_id, incidents.c.resolved_by == user_id)),
            select(func.count())
            .select_from(RoleAssignment)
            .where(or_(role_assignments.c.user_id == user_id, role_assignments.c.assigned_by == user_id)),
            select(func.count()).select_from(TimelineEvent).where(timeline_events.c.actor == user_id),
            select(func.count())
            .select_from(ActionItem)
            .where(or_(action_items.c.owner == user_id, action_items.c.created_by == user_id)),
        )
        return sum(int(self.session.scalar(stmt) or 0) for stmt in counts)
