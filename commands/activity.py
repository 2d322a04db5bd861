"""Human activity on an incident: what keeps it from being called stale."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from commands.records import Incident
from commands.vocabulary import IncidentStatus


class StaleSettings(Protocol):
    def stale_after(self, severity: str) -> timedelta: ...


def touched(incident: Incident, now: datetime, settings: StaleSettings) -> None:
    """Someone acted on the incident: its stale nudge moves a full `stale_after` away (none once resolved).

    Call it in the transaction that records the activity; the bot's own posts (reminders, nudges) are not
    activity and never call it.
    """
    if incident.status != IncidentStatus.RESOLVED:
        incident.stale_due_at = now + settings.stale_after(incident.severity)
        incident.last_activity_at = now
