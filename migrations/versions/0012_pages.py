"""Pages: who was paged for an incident, by which policy, tier and round, and who acknowledged it.

Revision ID: 0012
Revises: 0008
Create Date: 2026-11-30 12:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("policy", sa.String(80), nullable=True),
        sa.Column("dedup_key", sa.String(120), nullable=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(120), nullable=False),
        sa.Column("paged_by", sa.String(40), nullable=True),
        sa.Column("paged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ack_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
        sa.Column("acknowledged_via", sa.String(20), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_pages_incident_id_incidents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pages")),
    )
    with op.batch_alter_table("pages") as batch:
        batch.create_index(batch.f("ix_pages_ack_due_at"), ["ack_due_at"], unique=False)
        batch.create_index(
            batch.f("ix_pages_incident_id_dedup_key_run"), ["incident_id", "dedup_key", "run"], unique=False
        )
        batch.create_index(batch.f("ix_pages_dedup_key_closed_at"), ["dedup_key", "closed_at"], unique=False)


def downgrade() -> None:
    op.drop_table("pages")
