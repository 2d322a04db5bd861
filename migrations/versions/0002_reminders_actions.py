"""Reminder due-times on incidents, and action items.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 20:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("last_update_at", _utc(), nullable=True))
        batch.add_column(sa.Column("next_update_due_at", _utc(), nullable=True))
        batch.add_column(
            sa.Column("reminders_since_update", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("commander_due_at", _utc(), nullable=True))
        batch.create_index(batch.f("ix_incidents_next_update_due_at"), ["next_update_due_at"], unique=False)
        batch.create_index(batch.f("ix_incidents_commander_due_at"), ["commander_due_at"], unique=False)

    op.create_table(
        "action_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=40), nullable=True),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_action_items_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_items")),
    )
    op.create_index(op.f("ix_action_items_incident_id"), "action_items", ["incident_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_action_items_incident_id"), table_name="action_items")
    op.drop_table("action_items")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_index(batch.f("ix_incidents_commander_due_at"))
        batch.drop_index(batch.f("ix_incidents_next_update_due_at"))
        batch.drop_column("commander_due_at")
        batch.drop_column("reminders_since_update")
        batch.drop_column("next_update_due_at")
        batch.drop_column("last_update_at")
