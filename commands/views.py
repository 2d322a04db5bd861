"""Immutable snapshots of incident state, handed from the store to presenters and replies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from commands.vocabulary import IncidentStatus

if TYPE_CHECKING:
    from commands.records import Incident


@dataclass(frozen=True)
class IncidentView:
    id: int
    title: str
    description: str
    severity: str
    status: str
    private: bool
    declared_by: str
    declared_at: datetime
    channel_id: str | None = None
    channel_name: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution_summary: str | None = None
    severity_description: str = ""
    roles: dict[str, str] = field(default_factory=dict)
    # For each role that changed hands, who held it before the current holder.
    handovers: dict[str, str] = field(default_factory=dict)
    last_update_at: datetime | None = None
    declared_in: str | None = None  # the channel the declaration was typed in
    possible_duplicate_of: int | None = None  # looked like this open incident when declared
    duplicate_of: int | None = None  # resolved as a duplicate of this incident
    incident_type: str | None = None
    services: tuple[str, ...] = ()
    drill: bool = False  # a practice incident: marked everywhere, nobody paged
    impact: str | None = None
    urgency: str | None = None
    acknowledged_at: datetime | None = None  # milestones (commands/milestones.py), for the target posts
    mitigated_at: datetime | None = None

    @property
    def ref(self) -> str:
        return f"INC-{self.id}"

    @property
    def is_resolved(self) -> bool:
        return self.status == IncidentStatus.RESOLVED


@dataclass(frozen=True)
class ChecklistLine:
    """One checklist item as the room's checklist message shows it: ticked by whom and when, or not."""

    position: int
    text: str
    done_by: str | None = None
    done_at: datetime | None = None

    def to_payload(self) -> dict[str, object]:
        """As a job payload carries it (JSON)."""
        done_at = self.done_at.isoformat() if self.done_at else None
        return {"position": self.position, "text": self.text, "done_by": self.done_by, "done_at": done_at}

    @classmethod
    def from_payload(cls, data: dict[str, object]) -> ChecklistLine:
        done_at = data.get("done_at")
        return cls(
            position=int(str(data["position"])),
            text=str(data["text"]),
            done_by=str(data["done_by"]) if data.get("done_by") else None,
            done_at=datetime.fromisoformat(str(done_at)) if done_at else None,
        )


def view_of(incident: Incident, severity_description: str = "") -> IncidentView:
    """Snapshot an incident row so it can outlive its session."""
    return IncidentView(
        id=incident.id,
        title=incident.title,
        description=incident.description,
        severity=incident.severity,
        status=incident.status,
        private=incident.private,
        declared_by=incident.declared_by,
        declared_at=incident.declared_at,
        channel_id=incident.channel_id,
        channel_name=incident.channel_name,
        resolved_at=incident.resolved_at,
        resolved_by=incident.resolved_by,
        resolution_summary=incident.resolution_summary,
        severity_description=severity_description,
        roles={r.role: r.user_id for r in incident.roles if r.ended_at is None},
        handovers=_handovers(incident),
        last_update_at=incident.last_update_at,
        declared_in=incident.declared_in,
        possible_duplicate_of=incident.possible_duplicate_of,
        duplicate_of=incident.duplicate_of,
        incident_type=incident.incident_type,
        services=tuple(incident.services or ()),
        drill=bool(incident.drill),
        impact=incident.impact,
        urgency=incident.urgency,
        acknowledged_at=incident.acknowledged_at,
        mitigated_at=incident.mitigated_at,
    )


def _handovers(incident: Incident) -> dict[str, str]:
    previous: dict[str, str] = {}
    for assignment in incident.roles:  # ordered by id, i.e. by time of assignment
        if assignment.ended_at is not None:
            previous[assignment.role] = assignment.user_id
    current = {r.role: r.user_id for r in incident.roles if r.ended_at is None}
    return {role: user for role, user in previous.items() if role in current and current[role] != user}
