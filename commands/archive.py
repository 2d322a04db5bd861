"""Archive: `archive_after` after an incident is resolved, its room gets a notice and is archived.

Claimed by the tick (commands/timers.py) once across replicas, and only while the incident is still
resolved: a reopen clears `archive_due_at`, and a reopen that races the claim wins because the claim
checks the status in the same statement. The record and the postmortem stay.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol, cast

from commands.errors import ChannelNotFound
from commands.jobs import JobKind, Plan, StepContext, StepOutcome, new_job
from commands.ports import Message
from commands.records import Incident, SlackJob
from commands.steps import post_once
from commands.views import IncidentView


class ArchivePresenter(Protocol):
    def archive_notice(self, incident: IncidentView) -> Message: ...


def archive_job(incident: Incident, due: datetime, now: datetime, lease: timedelta) -> SlackJob:
    """The job that tells the room and archives it; whoever resolved it hears if Slack refuses."""
    payload = {"due": due.isoformat(), "requested_by": incident.resolved_by}
    return new_job(JobKind.ARCHIVE, incident.id, now, lease, payload)


def post_archive_notice(ctx: StepContext) -> StepOutcome:
    """Say why the room is going away; one archived already (by hand) needs no notice."""
    if not ctx.incident.is_resolved or not ctx.incident.channel_id:
        return StepOutcome()  # reopened after the claim (the room stays), or it never had a room
    message = cast(ArchivePresenter, ctx.presenter).archive_notice(ctx.incident)
    try:
        return post_once(ctx, "archive_notice", ctx.incident.channel_id, message)
    except ChannelNotFound as exc:
        if exc.code != "is_archived":
            raise
        return StepOutcome()


def archive_room(ctx: StepContext) -> StepOutcome:
    if not ctx.incident.is_resolved or not ctx.incident.channel_id:
        return StepOutcome()
    ctx.chat.archive(ctx.incident.channel_id)
    return StepOutcome(
        incident={"archived_at": ctx.clock.now()}, events=[("room_archived", "Archived the war room")]
    )


PLANS: dict[str, Plan] = {
    JobKind.ARCHIVE: [("post_archive_notice", post_archive_notice), ("archive_room", archive_room)]
}
