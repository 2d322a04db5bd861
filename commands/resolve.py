"""Resolve: recorded with its postmortem draft's job; then the room and stakeholders hear it."""

from __future__ import annotations

from commands.feature import SLOW, Ask, Deps, Recorded
from commands.incidents import resolve_incident
from commands.parsing import Resolve


class ResolveFeature:
    """`/incident resolve [summary]`: the commander (or admins, by default) closes the incident."""

    name = "resolve"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: Resolve, ask: Ask, deps: Deps) -> Recorded:
        scheduled = resolve_incident(
            cmd,
            user_id=ask.user_id,
            channel_id=ask.room,
            uow=deps.uow,
            clock=deps.clock,
            settings=deps.settings,
            lease=deps.lease,
            admins=deps.admins,  # consulted only when the cheap rules refuse, and never asks Slack
        )
        # The resolution post is the answer everyone sees: nobody waits for the job to say more.
        return Recorded(scheduled=scheduled, wait=False)


RESOLVE = ResolveFeature()
