"""Action items: `/incident action <text> [@owner]` records follow-up work for the postmortem."""

from __future__ import annotations

from commands.activity import StaleSettings, touched
from commands.feature import SLOW, Ask, Deps, Recorded
from commands.incidents import incident_in_room
from commands.parsing import AddActionItem
from commands.ports import Clock, UnitOfWorkFactory
from commands.records import ActionItem, TimelineEvent
from commands.tracker_sync import track_action_item


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
            settings=deps.settings,
            delivery=ask.delivery_key,
        )
        return Recorded(answer=f":white_check_mark: Action item recorded for {ref}.")


ACTION_ITEM = ActionItemFeature()


def add_action_item(
    cmd: AddActionItem,
    *,
    user_id: str,
    channel_id: str,
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: StaleSettings,
    delivery: str | None = None,
) -> str:
    """Record an action item (also on the timeline) once per delivery; returns the incident reference."""
    now = clock.now()
    with uow() as tx:
        incident = incident_in_room(tx, channel_id)
        if delivery is not None and not tx.deliveries.first_time(delivery, now):
            return incident.ref
        item = tx.action_items.add(
            ActionItem(
                incident_id=incident.id, text=cmd.text, owner=cmd.owner, created_by=user_id, created_at=now
            )
        )
        track_action_item(tx, incident, item, now, settings)
        owner = f" (owner <@{cmd.owner}>)" if cmd.owner else ""
        tx.timeline.add(
            TimelineEvent(
                incident_id=incident.id,
                kind="action_item",
                actor=user_id,
                text=f"{cmd.text}{owner}",
                occurred_at=now,
                data={"owner": cmd.owner, "item": cmd.text},
            )
        )
        touched(incident, now, settings)
        tx.commit()
        return incident.ref
