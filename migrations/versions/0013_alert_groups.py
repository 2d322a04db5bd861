"""Alert groups: which incident an Alertmanager or Grafana alert group declared, claimed once per key.

Revision ID: 0013
Revises: 0008
Create Date: 2026-11-30 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_groups",
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("firing", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_alert_groups_incident_id_incidents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("source", "key_hash", name=op.f("pk_alert_groups")),
    )
    op.create_index(op.f("ix_alert_groups_incident_id"), "alert_groups", ["incident_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_alert_groups_incident_id"), table_name="alert_groups")
    op.drop_table("alert_groups")
