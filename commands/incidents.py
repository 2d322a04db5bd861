"""What every feature needs of an incident: the room's incident, its roles, the job after a change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from commands.errors import NotInWarRoom
from commands.jobs import FreshJob
from commands.limits import RateLimit
from commands.ports import IncidentSettings, UnitOfWork
from commands.records import Incident
from commands.views import IncidentView


@dataclass(frozen=True)
class Scheduled:
    """An incident snapshot and the job that will carry its Slack side effects."""

    incident: IncidentView
    job_id: int | None
    then: tuple[int, ...] = ()  # further jobs this process recorded and claimed, to run after job_id
    fresh: FreshJob | None = None  # set when the job may run at once from memory, without a read-back


class DeclareSettings(IncidentSettings, Protocol):
    """The config a declaration reads: the usual settings, and how often one person may declare."""

    def declare_limit(self) -> RateLimit: ...

    def checklist(self, incident_type: str | None, severity: str) -> list[tuple[str, str]]:
        """(text, source) of the checklist items a new incident of this type and severity gets."""
        ...

    # What a declaration's type and answers decide: its type, privacy, drill and severity.
    def type_of(self, name: str | None) -> str | None: ...

    def type_private(self, name: str | None) -> bool: ...

    def type_drill(self, name: str | None) -> bool: ...

    def priority_severity(self, impact: str | None, urgency: str | None) -> str | None: ...


def incident_in_room(tx: UnitOfWork, channel_id: str, *, for_update: bool = False) -> Incident:
    incident = tx.incidents.get_by_channel(channel_id, for_update=for_update)
    if incident is None:
        raise NotInWarRoom(
            "This command works inside an incident's war room. Use `/incident list` to find the rooms."
        )
    return incident


def current_roles(incident: Incident) -> dict[str, str]:
    """Role -> user for the assignments still in force."""
    return {r.role: r.user_id for r in incident.roles if r.ended_at is None}
