"""Commands on the in-memory unit of work: a controlled clock, the default config, a seeded war room."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.ops.config import IncidentConfig
from commands.records import Incident, RoleAssignment
from tests.unit.fakes import FakeDatabase

START = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
ROOM = "C1"
CONFIG = IncidentConfig()  # sev1 every 15m, sev2 every 30m, sev3 every 1h; 5 declares a minute


class Clock:
    def __init__(self) -> None:
        self.at = START

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at


@pytest.fixture
def db() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def war_room(
    db: FakeDatabase,
    clock: Clock,
    *,
    severity: str = "sev2",
    roles: dict[str, str] | None = None,
    channel: str = ROOM,
    private: bool = False,
    declared_by: str = "U1",
) -> int:
    """A committed open incident whose war room exists, with these roles held; returns its number."""
    now = clock.now()
    with db() as tx:
        incident = Incident(
            title="Checkout is timing out",
            severity=severity,
            status="investigating",
            private=private,
            declared_by=declared_by,
            declared_at=now,
            channel_id=channel,
            channel_name=f"inc-{channel.lower()}",
            next_update_due_at=now + CONFIG.update_every(severity),
            commander_due_at=now + CONFIG.commander_timeout(severity),
            stale_due_at=now + CONFIG.stale_after(severity),
        )
        tx.incidents.insert_many([incident])
        for role, user in (roles or {}).items():
            incident.roles.append(
                RoleAssignment(role=role, user_id=user, assigned_by=declared_by, assigned_at=now)
            )
            if role == "commander":
                incident.commander_due_at = None
                incident.acknowledged_at = now
        tx.commit()
        return incident.id
