"""What the bot can tell anyone at once: the room's incident, the open incidents, and how to use it."""

from __future__ import annotations

from collections.abc import Sequence

from commands.activity import touched
from commands.feature import SLOW, Ask, Deps, Recorded
from commands.incidents import incident_in_room
from commands.mrkdwn import escape
from commands.parsing import Help, ListOpen, Status, help_text
from commands.ports import Clock, IncidentSettings, UnitOfWorkFactory
from commands.views import IncidentView, view_of
from commands.vocabulary import IncidentStatus


class StatusFeature:
    """`/incident status` in a war room."""

    name = "status"
    answers_in_ack = False
    slow = SLOW

    def record(self, _cmd: Status, ask: Ask, deps: Deps) -> Recorded:
        view = incident_status(channel_id=ask.room, uow=deps.uow, settings=deps.settings, clock=deps.clock)
        return Recorded(answer=deps.presenter.status_reply(view))


class ListFeature:
    """`/incident list`: open incidents, private ones left out (the asker may not be in their room)."""

    name = "list"
    answers_in_ack = False
    slow = SLOW

    def record(self, _cmd: ListOpen, _ask: Ask, deps: Deps) -> Recorded:
        return Recorded(answer=deps.presenter.list_reply(list_open_incidents(uow=deps.uow)))


class HelpFeature:
    """`/incident help` (and a bare `/incident`)."""

    name = "help"
    answers_in_ack = True
    slow = SLOW

    def record(self, _cmd: Help, _ask: Ask, _deps: Deps) -> Recorded:
        return Recorded(answer=escape(help_text()))


STATUS = StatusFeature()
LIST = ListFeature()
HELP = HelpFeature()


def incident_status(
    *, channel_id: str, uow: UnitOfWorkFactory, settings: IncidentSettings, clock: Clock | None = None
) -> IncidentView:
    """The room's incident for a status reply; asked in its room (with a clock), it counts as activity."""
    with uow() as tx:
        incident = incident_in_room(tx, channel_id)
        view = view_of(incident, settings.severity_description(incident.severity))
        if clock is not None and incident.status != IncidentStatus.RESOLVED:
            touched(incident, clock.now(), settings)
            tx.commit()
        return view


def list_open_incidents(*, uow: UnitOfWorkFactory, limit: int = 50) -> Sequence[IncidentView]:
    """Open incidents, newest first; private ones are left out because the asker may not be in their room."""
    with uow() as tx:
        return [view_of(i) for i in tx.incidents.list_open(limit, include_private=False)]
