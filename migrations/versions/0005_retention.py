"""Retention and erasure: finished jobs found by age, pruned incidents marked, forgotten people kept out.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("timeline_pruned_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(
            batch.f("ix_incidents_timeline_pruned_at_resolved_at"),
            ["timeline_pruned_at", "resolved_at"],
            unique=False,
        )
    with op.batch_alter_table("slack_jobs") as batch:
        batch.create_index(batch.f("ix_slack_jobs_finished_at"), ["finished_at"], unique=False)
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("forgotten_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.drop_column("forgotten_at")
    with op.batch_alter_table("slack_jobs") as batch:
        batch.drop_index(batch.f("ix_slack_jobs_finished_at"))
    with op.batch_alter_table("incidents") as batch:
        batch.drop_index(batch.f("ix_incidents_timeline_pruned_at_resolved_at"))
        batch.drop_column("timeline_pruned_at")
