"""Weekly reminders of overdue action items: when each open item is next in its owner's reminder.

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-30 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("action_items") as batch:
        batch.add_column(sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_action_items_remind_at"), ["remind_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("action_items") as batch:
        batch.drop_index(batch.f("ix_action_items_remind_at"))
        batch.drop_column("remind_at")
