"""Timeline capture: notes, pinned messages (added and removed), and action items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from commands.incidents import incident_in_room
from commands.parsing import AddActionItem, Note
from commands.ports import Clock, UnitOfWorkFactory
from commands.records import ActionItem, TimelineEvent


@dataclass(frozen=True)
class PinnedMessage:
    """A message somebody chose to keep: who wrote it, what it said, when, and where it lives."""

    channel_id: str
    ts: str
    author: str | None
    text: str
    permalink: str | None


def message_time(ts: str) -> datetime:
    """A Slack ts is seconds since the epoch: the message's own time, not when it was pinned."""
    return datetime.fromtimestamp(float(ts), tz=UTC)


def add_note(cmd: Note, *, user_id: str, channel_id: str, uow: UnitOfWorkFactory, clock: Clock) -> str:
    """Record a note; returns the incident reference for the confirmation."""
    with uow() as tx:
        incident = incident_in_room(tx, channel_id)
        tx.timeline.add(
            TimelineEvent(
                incident_id=incident.id, kind="note", actor=user_id, text=cmd.text, occurred_at=clock.now()
            )
        )
        tx.commit()
        return incident.ref


def pin_message(
    msg: PinnedMessage, *, pinned_by: str, uow: UnitOfWorkFactory, clock: Clock, delivery: str | None = None
) -> bool | None:
    """Add a message to its room's timeline once; False when already there, None for a retried delivery.

    Raises NotInWarRoom.
    """
    with uow() as tx:
        incident = incident_in_room(tx, msg.channel_id)
        if delivery is not None and not tx.deliveries.first_time(delivery, clock.now()):
            return None
        if tx.timeline.has_pin(incident.id, msg.ts):
            tx.commit()
            return False
        tx.timeline.add(
            TimelineEvent(
                incident_id=incident.id,
                kind="pinned",
                actor=msg.author,
                text=msg.text,
                occurred_at=message_time(msg.ts),
                message_channel=msg.channel_id,
                message_ts=msg.ts,
                permalink=msg.permalink,
                data={"pinned_by": pinned_by, "pinned_at": clock.now().isoformat()},
            )
        )
        tx.commit()
        return True


def unpin_message(
    *, channel_id: str, ts: str, uow: UnitOfWorkFactory, clock: Clock, delivery: str | None = None
) -> bool:
    """Remove a pinned message from the timeline; False when nothing was there."""
    with uow() as tx:
        incident = tx.incidents.get_by_channel(channel_id)
        if incident is None:
            return False
        if delivery is not None and not tx.deliveries.first_time(delivery, clock.now()):
            return False
        removed = tx.timeline.remove_pin(incident.id, ts)
        tx.commit()
        return removed > 0


def add_action_item(
    cmd: AddActionItem,
    *,
    user_id: str,
    channel_id: str,
    uow: UnitOfWorkFactory,
    clock: Clock,
    delivery: str | None = None,
) -> str:
    """Record an action item (also on the timeline) once per delivery; returns the incident reference."""
    now = clock.now()
    with uow() as tx:
        incident = incident_in_room(tx, channel_id)
        if delivery is not None and not tx.deliveries.first_time(delivery, now):
            return incident.ref
        tx.action_items.add(
            ActionItem(
                incident_id=incident.id, text=cmd.text, owner=cmd.owner, created_by=user_id, created_at=now
            )
        )
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
        tx.commit()
        return incident.ref
