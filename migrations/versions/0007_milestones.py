"""Milestones on the incident row: acknowledged_at and mitigated_at, filled in from existing records.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 12:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("mitigated_at", sa.DateTime(timezone=True), nullable=True))
    # The same definitions the postmortem used so far: the first commander, the first move to monitoring.
    op.execute(
        "UPDATE incidents SET acknowledged_at = (SELECT MIN(r.assigned_at) FROM role_assignments r "
        "WHERE r.incident_id = incidents.id AND r.role = 'commander')"
    )
    to_status = (
        "e.data ->> 'to'" if op.get_bind().dialect.name == "postgresql" else "json_extract(e.data, '$.to')"
    )
    op.execute(
        "UPDATE incidents SET mitigated_at = (SELECT MIN(e.occurred_at) FROM timeline_events e "
        f"WHERE e.incident_id = incidents.id AND e.kind = 'status_changed' AND {to_status} = 'monitoring')"
    )


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("mitigated_at")
        batch.drop_column("acknowledged_at")
