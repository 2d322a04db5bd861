"""Notes: `/incident note <text>` adds a line to the room's incident timeline."""

from __future__ import annotations

from commands.activity import StaleSettings, touched
from commands.feature import SLOW, Ask, Deps, Recorded
from commands.incidents import incident_in_room
from commands.parsing import Note
from commands.ports import Clock, UnitOfWorkFactory
from commands.records import TimelineEvent


class NoteFeature:
    name = "note"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: Note, ask: Ask, deps: Deps) -> Recorded:
        ref = add_note(
            cmd,
            user_id=ask.user_id,
            channel_id=ask.room,
            uow=deps.uow,
            clock=deps.clock,
            settings=deps.settings,
        )
        return Recorded(answer=f":memo: Added to the {ref} timeline.")


NOTE = NoteFeature()


def add_note(
    cmd: Note, *, user_id: str, channel_id: str, uow: UnitOfWorkFactory, clock: Clock, settings: StaleSettings
) -> str:
    """Record a note; returns the incident reference for the confirmation."""
    with uow() as tx:
        incident = incident_in_room(tx, channel_id)
        now = clock.now()
        tx.timeline.add(
            TimelineEvent(incident_id=incident.id, kind="note", actor=user_id, text=cmd.text, occurred_at=now)
        )
        touched(incident, now, settings)
        tx.commit()
        return incident.ref
