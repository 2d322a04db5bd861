"""Insights: an index for an incident's events of one kind, and each update's count of reminders before it.

Revision ID: 0014
Revises: 0008
Create Date: 2026-11-30 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_timeline_events_incident_id_kind_occurred_at"

# Reminders sent after the previous update (or the declaration) and no later than this update: what
# commands/update.py now records as data.reminders, for the updates recorded before it did.
_REMINDERS_BEFORE = (
    "(SELECT COUNT(*) FROM timeline_events r WHERE r.incident_id = u.incident_id "
    "AND r.kind = 'reminder_sent' AND r.occurred_at <= u.occurred_at AND NOT EXISTS ("
    "SELECT 1 FROM timeline_events p WHERE p.incident_id = u.incident_id AND p.kind = 'update_posted' "
    "AND p.occurred_at >= r.occurred_at AND p.occurred_at < u.occurred_at))"
)


def upgrade() -> None:
    # Escalated? Reopened? Reminders before an update? Each becomes a probe of this index instead of a
    # walk through all of the incident's events (store/insights.py, and the fill below).
    op.create_index(INDEX, "timeline_events", ["incident_id", "kind", "occurred_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE timeline_events AS u SET data = (u.data::jsonb || jsonb_build_object('reminders', "
            f"{_REMINDERS_BEFORE}))::json WHERE u.kind = 'update_posted' AND u.data ->> 'reminders' IS NULL"
        )
    else:
        # SQLite: an UPDATE cannot alias its table, so the correlated subquery names it in full.
        op.execute(
            "UPDATE timeline_events SET data = json_set(data, '$.reminders', "
            + _REMINDERS_BEFORE.replace("u.", "timeline_events.")
            + ") WHERE kind = 'update_posted' AND json_extract(data, '$.reminders') IS NULL"
        )


def downgrade() -> None:
    # The counts stay in the events' data: harmless to older code, which never reads them.
    op.drop_index(INDEX, table_name="timeline_events")
