"""Assign a role (command, form, or "I'll take it"): recorded, then the room told, the holder briefed."""

from __future__ import annotations

from commands.errors import UnknownTarget
from commands.feature import SLOW, Ask, Deps, JobResult, JobState, Recorded, Reply
from commands.parsing import Assign
from commands.roles import assign_role


class AssignFeature:
    """`/incident assign`, the assign form and the reminder's *I'll take it* button."""

    name = "assign"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: Assign, ask: Ask, deps: Deps) -> Recorded:
        # A typed mention is checked with Slack first (within the acknowledgement's budget); a person
        # picked in Slack's own user picker exists by construction.
        if not cmd.picked and not cmd.vacant_only and not deps.directory.user_exists(cmd.user_id):
            raise UnknownTarget(f"I can't find <@{cmd.user_id}> in this workspace; nothing was changed.")
        scheduled = assign_role(
            cmd,
            user_id=ask.user_id,
            channel_id=ask.room,
            uow=deps.uow,
            clock=deps.clock,
            settings=deps.settings,
            lease=deps.lease,
            delivery_key=ask.delivery_key,
            admins=deps.admins,
            vacant_only=cmd.vacant_only,
        )
        ref = scheduled.incident.ref
        if scheduled.job_id is None:
            return Recorded(answer=f"<@{cmd.user_id}> is already {cmd.role} for {ref}.")
        return Recorded(scheduled=scheduled, reply=_reply(cmd, ref))


def _reply(cmd: Assign, ref: str) -> Reply:
    now = f"<@{cmd.user_id}> is now {cmd.role} for {ref}"

    def reply(result: JobResult) -> str:
        return {
            JobState.DONE: f":bust_in_silhouette: {now}.",
            JobState.PENDING: f":bust_in_silhouette: {now}. Slack is slow: the room and their briefing "
            "will follow as soon as it answers.",
            JobState.GAVE_UP: f":bust_in_silhouette: {now}, but I could not tell the room or brief them.",
            JobState.QUEUED: f":bust_in_silhouette: {now}. Telling the room and briefing them is on its way.",
        }[result.state]

    return reply


ASSIGN = AssignFeature()
