"""Action items that get done: due date, priority, and who finished them when.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 12:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("action_items") as batch:
        batch.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("priority", sa.String(2), nullable=True))
        batch.add_column(sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("done_by", sa.String(40), nullable=True))
        batch.create_index(batch.f("ix_action_items_done_at_due_at"), ["done_at", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("action_items") as batch:
        batch.drop_index(batch.f("ix_action_items_done_at_due_at"))
        for column in ("done_by", "done_at", "priority", "due_at"):
            batch.drop_column(column)
