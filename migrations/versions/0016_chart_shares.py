"""Chart shares (`/incident stats`, the weekly digest) and the digest's schedule, claimed once.

Revision ID: 0016
Revises: 0014
Create Date: 2026-11-30 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chart_shares",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=100), nullable=False),
        sa.Column("requested_by", sa.String(length=40), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("posted_ts", sa.String(length=40), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chart_shares")),
    )
    op.create_index(op.f("ix_chart_shares_due_at"), "chart_shares", ["due_at"], unique=False)
    op.create_table(
        "digest_schedules",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("schedule", sa.String(length=40), nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_digest_schedules")),
    )


def downgrade() -> None:
    op.drop_table("digest_schedules")
    op.drop_index(op.f("ix_chart_shares_due_at"), table_name="chart_shares")
    op.drop_table("chart_shares")
