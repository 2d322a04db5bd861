"""Notes: `/incident note <text>` adds a line to the room's incident timeline."""

from __future__ import annotations

from commands.feature import SLOW, Ask, Deps, Recorded
from commands.parsing import Note
from commands.timeline import add_note


class NoteFeature:
    name = "note"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: Note, ask: Ask, deps: Deps) -> Recorded:
        ref = add_note(cmd, user_id=ask.user_id, channel_id=ask.room, uow=deps.uow, clock=deps.clock)
        return Recorded(answer=f":memo: Added to the {ref} timeline.")


NOTE = NoteFeature()
