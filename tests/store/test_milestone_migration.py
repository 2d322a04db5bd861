"""Migration 0007 fills acknowledged_at and mitigated_at from what earlier versions recorded."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import create_engine, pool, text

from bot.ops import migrate


def test_existing_incidents_get_their_first_commander_and_first_monitoring(db_url: str) -> None:
    migrate.downgrade(db_url, "0006")
    engine = create_engine(db_url, poolclass=pool.NullPool)
    at = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)
    with engine.begin() as conn:
        for number, title in ((1, "acknowledged and mitigated"), (2, "neither")):
            conn.execute(
                text(
                    "INSERT INTO incidents (id, title, description, severity, status, private, declared_by,"
                    " declared_at, reminders_since_update, services, drill)"
                    " VALUES (:id, :title, '', 'sev2', 'monitoring', false, 'U1', :at, 0, '[]', false)"
                ),
                {"id": number, "title": title, "at": at},
            )
        roles = [("U2", "commander", 5), ("U3", "commander", 9), ("U4", "scribe", 1)]
        for user, role, minute in roles:
            conn.execute(
                text(
                    "INSERT INTO role_assignments (incident_id, role, user_id, assigned_by, assigned_at)"
                    " VALUES (1, :role, :user, 'U1', :at)"
                ),
                {"role": role, "user": user, "at": at.replace(minute=minute)},
            )
        changes = [
            ("investigating", "identified", 10),
            ("identified", "monitoring", 20),
            ("x", "monitoring", 30),
        ]
        for before, after, minute in changes:
            conn.execute(
                text(
                    "INSERT INTO timeline_events (incident_id, kind, actor, text, occurred_at, data)"
                    " VALUES (1, 'status_changed', 'U2', '', :at, :data)"
                ),
                {"at": at.replace(minute=minute), "data": f'{{"from": "{before}", "to": "{after}"}}'},
            )
    migrate.upgrade(db_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, acknowledged_at, mitigated_at FROM incidents ORDER BY id")).all()
    engine.dispose()
    stamps = [
        (
            row[0],
            *(None if v is None else datetime.fromisoformat(str(v)).replace(tzinfo=UTC) for v in row[1:]),
        )
        for row in rows
    ]
    assert stamps == [(1, at.replace(minute=5), at.replace(minute=20)), (2, None, None)]
