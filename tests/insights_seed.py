"""A small, hand-checked set of incidents for the insights tests (store and CLI), written with plain INSERTs.

Period [2026-03-02, 2026-03-16) UTC, weeks starting 2 and 9 March; the report's clock is 16 March 00:30.
Every expected figure below is worked out by hand in tests/store/test_insights.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from bot.ops.config import IncidentConfig
from store.db import make_engine
from store.models import action_items, incidents, timeline_events

SINCE = datetime(2026, 3, 2, tzinfo=UTC)
UNTIL = datetime(2026, 3, 16, tzinfo=UTC)
NOW = datetime(2026, 3, 16, 0, 30, tzinfo=UTC)

CONFIG = IncidentConfig.model_validate(
    {
        "severities": {
            "sev1": {"update_every": "15m", "acknowledge_within": "10m", "resolve_within": "2h"},
            "sev2": {"update_every": "30m", "resolve_within": "1d"},
            "sev3": {"update_every": "1h", "resolve_within": "1d"},
        }
    }
)


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, micro, tzinfo=UTC)


def _incident(number: int, severity: str, declared: datetime, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": number,
        "title": f"Incident {number}",
        "description": "",
        "severity": severity,
        "status": "resolved" if extra.get("resolved_at") else "investigating",
        "private": False,
        "declared_by": "U1",
        "declared_at": declared,
        "services": [],
        "drill": False,
        "reminders_since_update": 0,
        "incident_type": None,
        "acknowledged_at": None,
        "mitigated_at": None,
        "resolved_at": None,
        "duplicate_of": None,
    }
    row.update(extra)
    return row


def incident_rows() -> list[dict[str, Any]]:
    """Six that count, a drill, a duplicate, and two just outside the period."""
    d1, d2, d3 = at(2, 10, 0, 0, 900_000), at(3, 10), at(9)
    d5, d9 = at(10, 12), at(11)
    return [
        # Truncated to the second: declared 10:00:00.9, acknowledged 10:05:00.1 -> 300 s.
        _incident(
            1,
            "sev1",
            d1,
            incident_type="database",
            services=["api", "db"],
            acknowledged_at=at(2, 10, 5, 0, 100_000),
            mitigated_at=at(2, 10, 30),
            resolved_at=at(2, 11),
        ),
        _incident(
            2,
            "sev1",
            d2,
            incident_type="database",
            services=["api"],
            acknowledged_at=d2 + timedelta(seconds=900),
            resolved_at=d2 + timedelta(seconds=10_800),
        ),
        _incident(
            3, "sev2", d3, acknowledged_at=d3 + timedelta(seconds=60), resolved_at=d3 + timedelta(hours=2)
        ),
        _incident(4, "sev2", at(15, 23, 59, 59)),
        _incident(
            5,
            "sev3",
            d5,
            incident_type="security",
            services=["db"],
            acknowledged_at=d5 + timedelta(seconds=120),
            mitigated_at=d5 + timedelta(seconds=240),
            resolved_at=d5 + timedelta(seconds=600),
        ),
        # A severity the config no longer has: the default (least severe, sev3) severity's targets apply.
        _incident(
            9,
            "sev9",
            d9,
            acknowledged_at=d9 + timedelta(seconds=30),
            resolved_at=d9 + timedelta(seconds=90_000),
        ),
        _incident(6, "sev1", at(4), drill=True, resolved_at=at(4, 1)),
        _incident(7, "sev2", at(5), duplicate_of=1, resolved_at=at(5, 0, 5)),
        _incident(8, "sev1", at(1, 23, 59, 59), resolved_at=at(2, 1)),
        _incident(10, "sev1", UNTIL, resolved_at=at(16, 1)),
    ]


def _event(incident: int, kind: str, moment: datetime, **data: Any) -> dict[str, Any]:
    return {"incident_id": incident, "kind": kind, "occurred_at": moment, "text": "", "data": data}


def event_rows() -> list[dict[str, Any]]:
    """Escalations, reopens, updates and reminders (a note between them must not matter)."""
    return [
        _event(1, "escalated", at(2, 10, 10)),
        _event(1, "update_posted", at(2, 10, 14), on_time=True, reminders=0),
        _event(1, "update_posted", at(2, 10, 28), on_time=True, reminders=0),
        _event(2, "update_posted", at(3, 10, 14), on_time=True, reminders=0),
        _event(2, "reminder_sent", at(3, 10, 29)),
        _event(2, "reminder_sent", at(3, 10, 44)),
        _event(2, "note", at(3, 10, 45)),
        _event(2, "update_posted", at(3, 10, 50), on_time=False, reminders=2),
        _event(2, "reopened", at(3, 12)),
        # Late, and the tick had not reminded anyone yet: one missed deadline all the same.
        _event(3, "update_posted", at(9, 0, 31), on_time=False, reminders=0),
        _event(5, "update_posted", at(10, 12, 5), on_time=True, reminders=0),
        _event(5, "reminder_sent", at(10, 13, 5)),
        # Recorded before updates carried the flag: neither on time nor late.
        _event(9, "update_posted", at(11, 1)),
        # The drill's events are not counted.
        _event(6, "escalated", at(4, 0, 5)),
        _event(6, "reopened", at(4, 0, 6)),
        _event(6, "update_posted", at(4, 0, 20), on_time=False),
    ]


def action_item_rows() -> list[dict[str, Any]]:
    def item(incident: int, **extra: Any) -> dict[str, Any]:
        row = {
            "incident_id": incident,
            "text": "Fix it",
            "created_by": "U1",
            "created_at": at(3),
            "due_at": None,
            "done_at": None,
            "done_by": None,
        }
        row.update(extra)
        return row

    return [
        item(1, done_at=at(10), done_by="U2", due_at=at(12)),
        item(1, due_at=at(15)),  # overdue at the clock
        item(2, due_at=at(20)),
        item(2),
        item(6, due_at=at(4)),  # the drill's: not counted
    ]


def seed(url: str) -> None:
    """Write the set into a migrated database."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            rows = incident_rows()
            conn.execute(insert(incidents), [r for r in rows if r["duplicate_of"] is None])
            conn.execute(insert(incidents), [r for r in rows if r["duplicate_of"] is not None])
            conn.execute(insert(timeline_events), event_rows())
            conn.execute(insert(action_items), action_item_rows())
            if engine.dialect.name == "postgresql":
                # Explicit ids leave the sequence behind; later inserts must not collide with them.
                conn.exec_driver_sql("SELECT setval('incidents_id_seq', (SELECT max(id) FROM incidents))")
    finally:
        engine.dispose()
