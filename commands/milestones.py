"""When an incident was acknowledged and mitigated: one definition for postmortems, targets and reports."""

from __future__ import annotations

from datetime import datetime

from commands.records import Incident

# The status that marks an incident mitigated (its impact stopped while the fix is watched).
MITIGATED = "monitoring"


def mark_acknowledged(incident: Incident, at: datetime) -> None:
    """The first commander acknowledges the incident; a later hand-over does not move the milestone."""
    if incident.acknowledged_at is None:
        incident.acknowledged_at = at


def mark_mitigated(incident: Incident, at: datetime) -> None:
    """The first move to `monitoring`, or `/incident mitigated`, mitigates it; later ones keep the first."""
    if incident.mitigated_at is None:
        incident.mitigated_at = at


def mark_page_acknowledged(incident: Incident, at: datetime, *, first: bool) -> None:
    """The first acknowledged page is when the incident was acknowledged, even after a first commander."""
    if first:
        incident.acknowledged_at = at
