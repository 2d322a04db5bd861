"""Pinned messages on the timeline: added (by reaction or shortcut) and removed, each once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from commands.activity import StaleSettings, touched
from commands.incidents import incident_in_room
from commands.ports import Clock, UnitOfWorkFactory
from commands.records import TimelineEvent


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


def pin_message(
    msg: PinnedMessage,
    *,
    pinned_by: str,
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: StaleSettings,
    delivery: str | None = None,
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
        touched(incident, clock.now(), settings)
        tx.commit()
        return True


def unpin_message(
    *,
    channel_id: str,
    ts: str,
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: StaleSettings,
    delivery: str | None = None,
) -> bool:
    """Remove a pinned message from the timeline; False when nothing was there."""
    with uow() as tx:
        incident = tx.incidents.get_by_channel(channel_id)
        if incident is None:
            return False
        if delivery is not None and not tx.deliveries.first_time(delivery, clock.now()):
            return False
        removed = tx.timeline.remove_pin(incident.id, ts)
        if removed:
            touched(incident, clock.now(), settings)
        tx.commit()
        return removed > 0
