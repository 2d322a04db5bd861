"""Postmortem versions: after the first upload, a draft that shows something new is shared as -v2, -v3 …

Each uploaded version's markdown is stored, so `incidentbot export --version N` gives exactly the bytes
people got, and a retried upload job finds its own version instead of numbering another. A version is
outdated when the draft as it renders now differs from it; the next `/incident postmortem`, or the daily
refresh while the postmortem is not published, uploads the next one and says what changed since.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from commands.jobs import Step, StepContext, StepOutcome
from commands.ports import UnitOfWorkFactory
from commands.postmortem import PostmortemData
from commands.postmortem_owner import REFRESH_EVERY, direct_message_once, ready_message
from commands.records import DraftVersion, Incident
from commands.vocabulary import IncidentStatus, PostmortemStatus

# Timeline kinds whose new lines the message counts by name; other new lines are "details updated".
_COUNTED = {"note": "note", "update_posted": "update", "pinned": "pinned message"}
_SAID = {
    "reopened": "reopened",
    "resolved": "resolved",
    "severity_changed": "severity changed",
    "postmortem_owner": "owner changed",
    "postmortem_status": "status changed",
    "postmortem_review": "review day set",
}


def snapshot(pm: PostmortemData) -> dict[str, Any]:
    """What the draft shows, in the terms the change message uses."""
    return {
        "title": pm.title,
        "description": pm.description,
        "summary": pm.resolution_summary,
        "items": {str(a.id): a.done for a in pm.action_items},
        "kinds": dict(Counter(e.kind for e in pm.timeline)),
        "status": pm.postmortem_status,
        "owner": pm.postmortem_owner,
        "review_date": pm.review_date.isoformat() if pm.review_date else None,
    }


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def changes_between(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """What changed, for people: "2 action items added, 1 done; title edited"."""
    parts: list[str] = []
    before, after = dict(old.get("items") or {}), dict(new.get("items") or {})
    added = len(set(after) - set(before))
    done = sum(1 for key, finished in after.items() if finished and not before.get(key))
    items = [f"{_plural(added, 'action item')} added"] if added else []
    items += [f"{done} done"] if done and added else [f"{_plural(done, 'action item')} done"] if done else []
    if items:
        parts.append(", ".join(items))
    for field, said in (("title", "title edited"), ("description", "description edited")):
        if old.get(field) != new.get(field):
            parts.append(said)
    if old.get("summary") != new.get("summary"):
        parts.append("resolution summary changed")
    kinds_before, kinds_after = Counter(old.get("kinds") or {}), Counter(new.get("kinds") or {})
    grown = kinds_after - kinds_before
    for kind, noun in _COUNTED.items():
        if grown[kind]:
            parts.append(f"{_plural(grown[kind], noun)} added")
    for kind, said in _SAID.items():
        if grown[kind]:
            parts.append(said)
    if not parts:
        parts.append("details updated")
    return "; ".join(parts)


@dataclass(frozen=True)
class Upload:
    """The version a job shares: its number and bytes, and what changed since the one before."""

    version: int
    markdown: str
    changes: str  # "" for the first version
    previous: int | None  # the version it follows
    new: bool  # False: the draft is unchanged since `version`, shared again on request


def version_to_upload(
    *,
    uow: UnitOfWorkFactory,
    incident_id: int,
    job_id: int,
    markdown: str,
    shows: Mapping[str, Any],
    now: datetime,
    refresh: bool,
) -> Upload | None:
    """The job's version: the one it recorded before (a retry), else a new one when the draft changed.

    None for a refresh that finds nothing new. An explicit request with nothing new shares the latest
    version again, under its own name. Raises the store's integrity error when another job numbered the
    same version first: the job is retried and numbers the next one.
    """
    with uow() as tx:
        mine = tx.postmortems.version_for_job(job_id)
        if mine is not None:
            return _upload(mine, tx.postmortems.version(incident_id, mine.version - 1), new=True)
        latest = tx.postmortems.latest_version(incident_id)
        if latest is not None and latest.markdown == markdown:
            return None if refresh else Upload(latest.version, latest.markdown, "", latest.version, new=False)
        number = latest.version + 1 if latest is not None else 1
        version = DraftVersion(
            incident_id=incident_id,
            version=number,
            job_id=job_id,
            markdown=markdown,
            snapshot=dict(shows),
            changes=changes_between(latest.snapshot, shows) if latest is not None else "",
            recorded_at=now,
        )
        tx.postmortems.add_version(version)
        incident = tx.incidents.get(incident_id)
        if incident is not None and _refreshed(incident) and incident.postmortem_refresh_at is None:
            # Refreshed daily from the first version of a resolved incident until it is published.
            tx.incidents.update_columns(incident_id, {"postmortem_refresh_at": now + REFRESH_EVERY})
        tx.commit()
        return _upload(version, latest, new=True)


def _refreshed(incident: Incident) -> bool:
    return (
        incident.status == IncidentStatus.RESOLVED
        and incident.postmortem_status != PostmortemStatus.PUBLISHED
    )


def _upload(version: DraftVersion, before: DraftVersion | None, *, new: bool) -> Upload:
    return Upload(
        version.version, version.markdown, version.changes, before.version if before else None, new=new
    )


def versioned_filename(base: str, version: int) -> str:
    """`<room>-postmortem.md` for the first version, `<room>-postmortem-v2.md` for the second …"""
    return base if version == 1 else base.removesuffix(".md") + f"-v{version}.md"


class UploadedVersions(Protocol):
    """What the owner's *draft ready* DM needs to know of an upload job's version and its owner."""

    def first_upload(self, incident_id: int, key: int) -> str | None:
        """The owner, when this job uploaded version 1 and the postmortem has an owner; else None."""
        ...


def stored_version(*, uow: UnitOfWorkFactory, incident_id: int, number: int) -> str | None:
    """Version `number`'s markdown as uploaded; None when it was never uploaded."""
    with uow() as tx:
        found = tx.postmortems.version(incident_id, number)
        return None if found is None else found.markdown


def notify_owner(versions: UploadedVersions) -> Step:
    """DM the owner once, when the job uploaded the first draft: they know it is theirs to finish."""

    def step(ctx: StepContext) -> StepOutcome:
        owner = versions.first_upload(ctx.incident.id, ctx.job_id)
        if owner is None:
            return StepOutcome()
        purpose = "postmortem_ready"  # one per incident: only the first version's job gets here
        shared = ctx.posts.get(f"postmortem:{ctx.job_id}")
        link = ctx.chat.permalink(shared.channel, shared.ts) if shared is not None else None
        message = ready_message(ctx.incident.id, ctx.incident.ref, ctx.incident.title, link, purpose)
        return direct_message_once(ctx, purpose, owner, message)

    return step
