"""An index for the insights report: an incident's timeline events of one kind, in time order.

Revision ID: 0012
Revises: 0008
Create Date: 2026-11-30 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Escalated? Reopened? The reminder before a late update? Each becomes one probe of this index
    # instead of a walk through all of the incident's events (store/insights.py).
    op.create_index(
        "ix_timeline_events_incident_id_kind_occurred_at",
        "timeline_events",
        ["incident_id", "kind", "occurred_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_timeline_events_incident_id_kind_occurred_at", table_name="timeline_events")
