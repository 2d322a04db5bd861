"""The Slack steps of sharing a postmortem draft: upload the file, then the message other tools follow."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from commands.jobs import GiveUp, JobKind, Plan, Step, StepContext, StepOutcome, new_job
from commands.ports import FileRef, Message, PostRef
from commands.records import SlackJob
from commands.views import IncidentView

EVENT_TYPE = "incident_postmortem"


@dataclass(frozen=True)
class Draft:
    """A rendered postmortem: the file's name, title and bytes, and the comment shown with it."""

    filename: str
    title: str
    content: bytes
    comment: str


class Drafts(Protocol):
    """Renders drafts and the message announcing them; implemented with templates outside the domain."""

    def draft(
        self, incident_id: int, name_of: Callable[[str], str | None], key: int, *, refresh: bool = False
    ) -> Draft | None:
        """Render the draft as job `key`'s version (commands/postmortem_versions.py); `name_of` (a Slack
        look-up) is asked about people with no known name yet. None: a refresh found nothing new."""
        ...

    def shared(self, incident: IncidentView, file: FileRef, payload: dict[str, Any], key: object) -> Message:
        """The message (with `incident_postmortem` metadata) that links to the uploaded file."""
        ...


def postmortem_job(incident_id: int, now: datetime, lease: timedelta, *, requested_by: str) -> SlackJob:
    """A job that uploads a draft of the incident's state as it is when the job runs."""
    payload = {"requested_by": requested_by, "requested_at": now.isoformat()}
    return new_job(JobKind.POSTMORTEM, incident_id, now, lease, payload)


def _room(ctx: StepContext) -> str:
    if not ctx.incident.channel_id:
        # Later jobs wait for the room while it is being set up: none means setting it up gave up.
        raise GiveUp("its war room could not be created")
    return ctx.incident.channel_id


def share_postmortem(drafts: Drafts) -> Step:
    """Upload the draft and post its metadata message once; a retry first looks for what already landed."""

    def step(ctx: StepContext) -> StepOutcome:
        purpose = f"postmortem:{ctx.job_id}"
        if purpose in ctx.posts:
            return StepOutcome()
        room = _room(ctx)
        since = datetime.fromisoformat(ctx.payload["requested_at"])
        if ctx.recovering:
            ts = ctx.chat.find_post(room, EVENT_TYPE, ctx.incident.id, since, ctx.job_id)
            if ts is not None:
                return StepOutcome(post=(purpose, PostRef(room, ts)))
        # A file read outside Slack lists people by name: bare member ids would mean nothing there.
        draft = drafts.draft(
            ctx.incident.id, ctx.chat.user_name, ctx.job_id, refresh=bool(ctx.payload.get("refresh"))
        )
        if draft is None:
            return StepOutcome()  # the daily refresh: nothing changed since the last version
        # Slack cannot attach metadata to a file share, so the file goes first and a normal message
        # carrying the metadata and the file's link follows. A retry reuses an identical file it finds.
        found = (
            ctx.chat.find_file(room, draft.filename, len(draft.content), since) if ctx.recovering else None
        )
        file = found or ctx.chat.upload_file(
            room,
            draft.filename,
            draft.content,
            draft.title,
            Message(text=draft.comment, event_type=EVENT_TYPE),
        )
        ref = ctx.chat.post(room, drafts.shared(ctx.incident, file, ctx.payload, ctx.job_id))
        return StepOutcome(
            post=(purpose, ref), more_posts=((f"postmortem_file:{ctx.job_id}", PostRef(room, file.file_id)),)
        )

    return step


def postmortem_plans(drafts: Drafts, after: tuple[tuple[str, Step], ...] = ()) -> dict[str, Plan]:
    """The job plan, built around the renderer the composition root provides; `after` the upload."""
    return {JobKind.POSTMORTEM: [("share_postmortem", share_postmortem(drafts)), *after]}
