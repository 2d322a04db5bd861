"""Published postmortems kept where teams keep them: each version shared while `published` is committed.

When the status becomes `published` (with `[publish.github]` configured), an upload job shares the draft
as it is now (a new version, since the status is in it); after every upload while published, the job
records a publish job for its version. That job commits the version's stored bytes (exactly what Slack
got, and what `incidentbot export --version N` gives) at the incident's path, records the commit the
moment the repository answers, then posts its link in the room once. A retry after a crash between the
commit and the record finds the file already holding those bytes and adopts its commit, so there is no
second commit; a publish that gives up tells the room, and the draft in Slack is untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Protocol, runtime_checkable

from commands.jobs import JobKind, Plan, Step, StepContext, StepOutcome
from commands.mrkdwn import escape
from commands.ports import Clock, Message, UnitOfWork
from commands.publisher import PublishRefused, publish_path
from commands.records import Incident, Publication, SlackJob, TimelineEvent
from commands.steps import post_once, room
from commands.vocabulary import PostmortemStatus

EVENT = "postmortem_published"  # the timeline kind; the draft leaves it out (commands/postmortem.py)
EVENT_TYPE = "incident_postmortem_published"
MESSAGE_LIMIT = 200


@runtime_checkable
class PublishSettings(Protocol):
    """Where postmortems are published (None: nowhere), whether private ones are, and the zone."""

    @property
    def publish_path(self) -> str | None: ...

    @property
    def publish_private(self) -> bool: ...

    @property
    def zone(self) -> tzinfo: ...


class PublicationStore(Protocol):
    def get(self, incident_id: int, version: int) -> Publication | None: ...

    def first(self, incident_id: int) -> Publication | None: ...

    def add(self, publication: Publication) -> None:
        """Raises the store's integrity error when the version is already recorded."""
        ...


class PublishUnitOfWork(UnitOfWork, Protocol):
    """A unit of work that also holds publications (the SQL store's)."""

    @property
    def publications(self) -> PublicationStore: ...

    def __enter__(self) -> PublishUnitOfWork: ...


PublishUnitOfWorkFactory = Callable[[], PublishUnitOfWork]


def publishing(settings: object) -> PublishSettings | None:
    """The settings when publishing is configured, else None: then nothing here does anything."""
    if isinstance(settings, PublishSettings) and settings.publish_path is not None:
        return settings
    return None


def upload_to_publish(
    tx: UnitOfWork, incident: Incident, now: datetime, user_id: str, settings: object
) -> None:
    """The status became `published`: record the upload job whose version will be published (due now,
    unclaimed: the worker's next claim runs it after the room hears of the status)."""
    if publishing(settings) is None:
        return
    payload = {"requested_by": user_id, "requested_at": now.isoformat(), "refresh": True}
    tx.jobs.add(
        SlackJob(
            kind=JobKind.POSTMORTEM,
            incident_id=incident.id,
            payload=payload,
            attempts=0,
            due_at=now,
            created_at=now,
        )
    )


def queue_publish(uow: PublishUnitOfWorkFactory, clock: Clock, settings: object) -> Step:
    """After an upload (the POSTMORTEM plan): while published, record the job that commits its version."""

    def step(ctx: StepContext) -> StepOutcome:
        if publishing(settings) is None:
            return StepOutcome()
        now = clock.now()
        with uow() as tx:
            incident = tx.incidents.get(ctx.incident.id)
            if incident is None or incident.postmortem_status != PostmortemStatus.PUBLISHED:
                return StepOutcome()
            # The version this job uploaded; else (shared again unchanged, or nothing new) the latest.
            version = tx.postmortems.version_for_job(ctx.job_id) or tx.postmortems.latest_version(incident.id)
            if version is None or tx.publications.get(incident.id, version.version) is not None:
                return StepOutcome()
            by = str(ctx.payload.get("requested_by") or incident.postmortem_owner or incident.declared_by)
            tx.jobs.add(
                SlackJob(
                    kind=JobKind.PUBLISH,
                    incident_id=incident.id,
                    payload={"version": version.version, "by": by, "after": ctx.job_id},
                    attempts=0,
                    due_at=now,
                    created_at=now,
                )
            )
            tx.commit()
        return StepOutcome()

    return step


def publish_plans(uow: PublishUnitOfWorkFactory, clock: Clock, settings: object) -> dict[str, Plan]:
    """The publish job: commit the version (recorded at once), then link the commit in the room."""

    def commit_version(ctx: StepContext) -> StepOutcome:
        number = int(ctx.payload["version"])
        configured = publishing(settings)
        if configured is None:
            raise PublishRefused("publishing is no longer configured")
        with uow() as tx:
            if tx.publications.get(ctx.incident.id, number) is not None:
                return StepOutcome()  # recorded by an earlier attempt, or by another job
            found = tx.incidents.get(ctx.incident.id)
            # Read while the transaction is open: the row is not used after it ends.
            incident = _Facts.of(found) if found is not None else None
            version = tx.postmortems.version(ctx.incident.id, number)
            first = tx.publications.first(ctx.incident.id)
        if incident is None or version is None:
            return StepOutcome()  # removed since (the incident was forgotten)
        if incident.private and not configured.publish_private:
            raise PublishRefused(
                "it is a private incident, and `[publish.github] private = true` is not set: "
                "the draft stays in this room"
            )
        if incident.drill:
            raise PublishRefused("it is a drill: practice postmortems are not published")
        if not version.markdown:
            raise PublishRefused(f"version {number} is no longer kept (its text was removed)")
        assert configured.publish_path is not None
        path = repository_path(
            first,
            configured.publish_path,
            configured.zone,
            incident_id=incident.id,
            ref=incident.ref,
            title=incident.title,
            declared_at=incident.declared_at,
        )
        published = ctx.publisher.publish(path, version.markdown.encode("utf-8"), _message(incident, number))
        now = clock.now()
        with uow() as tx:
            tx.publications.add(
                Publication(
                    incident_id=incident.id,
                    version=number,
                    path=path,
                    commit_sha=published.commit_sha,
                    commit_url=published.commit_url,
                    html_url=published.html_url,
                    published_at=now,
                    job_id=ctx.job_id,
                )
            )
            tx.timeline.add(
                TimelineEvent(
                    incident_id=incident.id,
                    kind=EVENT,
                    actor=None,
                    text=f"Postmortem version {number} published to {ctx.publisher.where} {path} "
                    f"(commit {published.commit_sha[:7]})",
                    occurred_at=now,
                    data={
                        "version": number,
                        "path": path,
                        "commit": published.commit_sha,
                        "url": published.html_url,
                    },
                )
            )
            tx.commit()
        return StepOutcome()

    def announce_published(ctx: StepContext) -> StepOutcome:
        number = int(ctx.payload["version"])
        with uow() as tx:
            publication = tx.publications.get(ctx.incident.id, number)
        if publication is None or publication.job_id != ctx.job_id:
            return StepOutcome()  # another job committed it, and tells the room
        where = escape(f"{ctx.publisher.where} {publication.path}")
        short = escape(publication.commit_sha[:7])
        file = f"<{_safe_url(publication.html_url)}|{where}>" if publication.html_url else where
        commit = f"<{_safe_url(publication.commit_url)}|{short}>" if publication.commit_url else short
        message = Message(
            text=f":books: Postmortem of *{ctx.incident.ref}* (version {number}) published to {file} "
            f"(commit {commit}).",
            event_type=EVENT_TYPE,
            event_payload={
                "incident_id": ctx.incident.id,
                "incident": ctx.incident.ref,
                "key": f"published:{number}",
                "version": number,
                "commit": publication.commit_sha,
            },
        )
        return post_once(ctx, f"postmortem_published:{number}", room(ctx), message)

    return {JobKind.PUBLISH: [("commit_version", commit_version), ("announce_published", announce_published)]}


@dataclass(frozen=True)
class _Facts:
    """What publishing reads of an incident."""

    id: int
    ref: str
    title: str
    declared_at: datetime
    private: bool
    drill: bool

    @classmethod
    def of(cls, incident: Incident) -> _Facts:
        return cls(
            incident.id,
            incident.ref,
            incident.title,
            incident.declared_at,
            incident.private,
            bool(incident.drill),
        )


def repository_path(
    first: Publication | None,
    template: str,
    zone: tzinfo,
    *,
    incident_id: int,
    ref: str,
    title: str,
    declared_at: datetime,
) -> str:
    """Where an incident's postmortem lives in the repository: where its first version went (a later
    title edit makes a new commit of the same file, not a second file), else where the template puts it."""
    if first is not None:
        return first.path
    return publish_path(
        template,
        incident_id=incident_id,
        ref=ref,
        title=title,
        declared_at=declared_at.astimezone(zone),
    )


def _message(incident: _Facts, number: int) -> str:
    """The commit message: one line, the reference, the version and the title as typed."""
    title = " ".join(incident.title.split())
    line = f"{incident.ref} postmortem, version {number}: {title}"
    return line if len(line) <= MESSAGE_LIMIT else line[: MESSAGE_LIMIT - 1] + "…"


def _safe_url(url: str) -> str:
    """A link inside <url|label>: nothing that could end the link or start another."""
    return escape(url.replace("|", "%7C").replace(" ", "%20").replace(">", "%3E"))
