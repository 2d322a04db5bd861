"""Migration 0012 gives updates recorded before it the count of reminders sent since the update before."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, pool, text

from bot.ops import migrate

AT = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)
# (kind, minute, data): declared, on time, two reminders, late, one reminder, late, late before the tick.
TIMELINE = [
    ("update_posted", 10, {"on_time": True}),
    ("reminder_sent", 40, {"count": 1}),
    ("note", 45, {}),
    ("reminder_sent", 70, {"count": 2}),
    ("update_posted", 75, {"on_time": False}),
    ("reminder_sent", 105, {"count": 1}),
    ("update_posted", 110, {"on_time": False}),
    ("update_posted", 150, {"on_time": False}),
    ("update_posted", 160, {"on_time": True, "reminders": 7}),  # already recorded: left alone
]


def test_older_updates_get_the_reminders_sent_since_the_update_before(db_url: str) -> None:
    migrate.downgrade(db_url, "0013")
    engine = create_engine(db_url, poolclass=pool.NullPool)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO incidents (id, title, description, severity, status, private, declared_by,"
                " declared_at, reminders_since_update, services, drill)"
                " VALUES (1, 'old', '', 'sev2', 'investigating', false, 'U1', :at, 0, '[]', false)"
            ),
            {"at": AT},
        )
        for kind, minute, data in TIMELINE:
            conn.execute(
                text(
                    "INSERT INTO timeline_events (incident_id, kind, text, occurred_at, data)"
                    " VALUES (1, :kind, '', :at, :data)"
                ),
                {"kind": kind, "at": AT + timedelta(minutes=minute), "data": json.dumps(data)},
            )
    migrate.upgrade(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT data FROM timeline_events WHERE kind = 'update_posted' ORDER BY occurred_at")
        ).all()
    engine.dispose()
    datas = [row[0] if isinstance(row[0], dict) else json.loads(row[0]) for row in rows]
    assert [d["reminders"] for d in datas] == [0, 2, 1, 0, 7]
    assert all("on_time" in d for d in datas), "the rest of each event's data is kept"
