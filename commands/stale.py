"""Stale incidents: an open incident nobody has acted on for its severity's `stale_after` gets a nudge.

The nudge, in the room, asks the commander (or the declarer while nobody is) to post an update or resolve
it, with a button for each. Human activity (see commands/activity.py) moves the due time; the nudge
itself does not, and after it the next one is due a full `stale_after` later. Claimed by the tick
(commands/timers.py) once across replicas.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from commands.declarer import person
from commands.incidents import current_roles
from commands.jobs import JobKind, Plan, StepContext, StepOutcome, new_job
from commands.ports import Message
from commands.records import Incident, SlackJob, TimelineEvent
from commands.steps import post_once
from commands.views import IncidentView
from commands.vocabulary import Role


class StalePresenter(Protocol):
    def stale_notice(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...


def stale_job(
    incident: Incident, due: datetime, now: datetime, lease: timedelta
) -> tuple[SlackJob, TimelineEvent]:
    """The nudge's job and its timeline line, for an incident claimed as stale at `now`."""
    roles = current_roles(incident)
    payload = {
        "due": due.isoformat(),
        # An alert-declared incident with nobody in command asks the room (None), not the alerting system.
        "target": roles.get(Role.COMMANDER) or person(incident.declared_by),
        "quiet_since": (incident.last_activity_at or incident.declared_at).isoformat(),
    }
    event = TimelineEvent(
        incident_id=incident.id,
        kind="stale_nudge",
        actor=None,
        text="Asked for an update or a resolution: no activity for a while",
        occurred_at=now,
        data={"due": due.isoformat()},
    )
    return new_job(JobKind.STALE, incident.id, now, lease, payload), event


def post_stale_notice(ctx: StepContext) -> StepOutcome:
    """Nudge the room; an incident resolved since the claim gets nothing."""
    if ctx.incident.is_resolved or not ctx.incident.channel_id:
        return StepOutcome()
    message = cast(StalePresenter, ctx.presenter).stale_notice(ctx.incident, ctx.payload)
    return post_once(ctx, f"stale:{ctx.payload['due']}", ctx.incident.channel_id, message)


PLANS: dict[str, Plan] = {JobKind.STALE: [("post_stale_notice", post_stale_notice)]}
