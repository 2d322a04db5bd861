"""What the bot can tell anyone at once: the room's incident, the open incidents, and how to use it."""

from __future__ import annotations

from commands import incidents
from commands.feature import SLOW, Ask, Deps, Recorded
from commands.mrkdwn import escape
from commands.parsing import Help, ListOpen, Status, help_text


class StatusFeature:
    """`/incident status` in a war room."""

    name = "status"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: Status, ask: Ask, deps: Deps) -> Recorded:
        view = incidents.incident_status(channel_id=ask.room, uow=deps.uow, settings=deps.settings)
        return Recorded(answer=deps.presenter.status_reply(view))


class ListFeature:
    """`/incident list`: open incidents, private ones left out (the asker may not be in their room)."""

    name = "list"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: ListOpen, ask: Ask, deps: Deps) -> Recorded:
        return Recorded(answer=deps.presenter.list_reply(incidents.list_open_incidents(uow=deps.uow)))


class HelpFeature:
    """`/incident help` (and a bare `/incident`)."""

    name = "help"
    answers_in_ack = True
    slow = SLOW

    def record(self, cmd: Help, ask: Ask, deps: Deps) -> Recorded:
        return Recorded(answer=escape(help_text()))


STATUS = StatusFeature()
LIST = ListFeature()
HELP = HelpFeature()
