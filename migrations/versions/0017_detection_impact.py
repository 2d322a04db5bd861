"""Detection and impact: when impact began and when it was noticed; action items' kind for the postmortem.

Revision ID: 0017
Revises: 0014
Create Date: 2026-11-30 13:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Both None on existing incidents: nobody said, and the draft shows them as not recorded.
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("impact_started_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("detected_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("action_items") as batch:
        batch.add_column(sa.Column("kind", sa.String(10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("action_items") as batch:
        batch.drop_column("kind")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("detected_at")
        batch.drop_column("impact_started_at")
