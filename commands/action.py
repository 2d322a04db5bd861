"""Action items: `/incident action <text> [@owner]` records follow-up work for the postmortem."""

from __future__ import annotations

from commands.feature import SLOW, Ask, Deps, Recorded
from commands.parsing import AddActionItem
from commands.timeline import add_action_item


class ActionItemFeature:
    name = "action"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: AddActionItem, ask: Ask, deps: Deps) -> Recorded:
        ref = add_action_item(
            cmd,
            user_id=ask.user_id,
            channel_id=ask.room,
            uow=deps.uow,
            clock=deps.clock,
            delivery=ask.delivery_key,
        )
        return Recorded(answer=f":white_check_mark: Action item recorded for {ref}.")


ACTION_ITEM = ActionItemFeature()
