"""Post a stakeholder update (command or form): recorded, then posted to the room and the announce channel."""

from __future__ import annotations

from commands.feature import SLOW, Ask, Deps, JobResult, JobState, Recorded, Reply
from commands.parsing import PostUpdate
from commands.updates import post_update


class UpdateFeature:
    """`/incident update` and the update form."""

    name = "update"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: PostUpdate, ask: Ask, deps: Deps) -> Recorded:
        scheduled = post_update(
            cmd,
            user_id=ask.user_id,
            channel_id=ask.room,
            uow=deps.uow,
            clock=deps.clock,
            settings=deps.settings,
            lease=deps.lease,
            delivery_key=ask.delivery_key,
        )
        private = scheduled.incident.private
        where = "the war room" if private else f"the war room and #{deps.settings.announce_channel}"
        return Recorded(scheduled=scheduled, reply=_reply(scheduled.incident.ref, where))


def _reply(ref: str, where: str) -> Reply:
    def reply(result: JobResult) -> str:
        return {
            JobState.DONE: f":mega: Update for {ref} posted to {where}.",
            JobState.PENDING: f":hourglass: Update for {ref} recorded; it is not in {where} yet and will "
            "follow shortly (Slack is slow, or the incident's earlier updates go first).",
            JobState.GAVE_UP: f":warning: Update for {ref} recorded on the timeline, but I could not "
            f"post it to {where}.",
            JobState.QUEUED: f":hourglass: Update for {ref} recorded; it is on its way to {where}.",
        }[result.state]

    return reply


UPDATE = UpdateFeature()
