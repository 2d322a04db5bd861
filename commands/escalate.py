"""Escalate (severity and/or pages) and join a room from a page: recorded, then people are paged."""

from __future__ import annotations

from functools import partial

from commands.errors import IncidentError
from commands.escalation import escalate, room_to_join
from commands.feature import SLOW, Ask, Deps, JobResult, JobState, Recorded
from commands.incidents import Scheduled
from commands.limits import check_page_count
from commands.lookups import people_to_page
from commands.parsing import Escalate, JoinRoom
from commands.permissions import AdminsUnknown


class EscalateFeature:
    """`/incident escalate [severity] [@people] [@groups]`."""

    name = "escalate"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: Escalate, ask: Ask, deps: Deps) -> Recorded:
        """Check the people named exist and expand the groups (within the ack's budget), then record."""
        limit = deps.settings.max_paged_per_command
        check_page_count(len(cmd.users) + len(cmd.groups), limit)  # before a single look-up
        paged = list(dict.fromkeys(people_to_page(deps.directory, cmd.users, cmd.groups)))
        check_page_count(len(paged), limit)
        record = partial(
            escalate,
            cmd,
            user_id=ask.user_id,
            channel_id=ask.room,
            paged_users=paged,
            uow=deps.uow,
            clock=deps.clock,
            settings=deps.settings,
            lease=deps.lease,
            admins=deps.admins,
        )
        try:
            scheduled = record()
        except AdminsUnknown:
            deps.admins.refresh_admins()  # only when the admin group alone could allow lowering it
            scheduled = record()
        return Recorded(scheduled=scheduled, reply=partial(_reply, scheduled.incident.ref))


def _reply(ref: str, result: JobResult) -> str:
    return {
        JobState.DONE: f":rotating_light: {ref} escalated.",
        JobState.PENDING: f":rotating_light: {ref} escalated. Slack is slow: the pages and posts will go "
        "out as soon as it answers.",
        JobState.GAVE_UP: f":warning: {ref} escalated on the timeline, but I could not page everyone.",
        JobState.QUEUED: f":rotating_light: {ref} escalated. The pages and posts are on their way.",
    }[result.state]


class JoinFeature:
    """A page's *Join war room*: invite the person paged for this open incident (again, if they left)."""

    name = "join war room"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: JoinRoom, ask: Ask, deps: Deps) -> Recorded:
        if cmd.incident_id is None or not ask.user_id:
            raise IncidentError("That button does not point at an incident I know; nothing was changed.")
        # The button's value is only a claim: who was paged, and whether it is still open, come from the
        # database. The invite is its own small job, so a click is answered at once and never lost.
        scheduled: Scheduled = room_to_join(
            incident_id=cmd.incident_id,
            user_id=ask.user_id,
            uow=deps.uow,
            clock=deps.clock,
            lease=deps.lease,
            delivery_key=ask.delivery_key,
        )
        return Recorded(scheduled=scheduled, reply=_joined)


def _joined(result: JobResult) -> str | None:
    if result.state is JobState.DONE:
        return f"You are in <#{result.channel_id}>."
    if result.state is JobState.GAVE_UP:
        return None  # told what Slack refused
    return ":hourglass: Slack is slow; you will be added to the war room as soon as it answers."


ESCALATE = EscalateFeature()
JOIN = JoinFeature()
