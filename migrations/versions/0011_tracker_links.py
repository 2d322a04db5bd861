"""Action items' issues in a tracker (GitHub, Jira): the link, and when its closed state is next checked.

Revision ID: 0011
Revises: 0008
Create Date: 2026-11-30 12:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tracker_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("action_item_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("tracker", sa.String(20), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_item_id"],
            ["action_items.id"],
            name=op.f("fk_tracker_links_action_item_id_action_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_tracker_links_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracker_links")),
        sa.UniqueConstraint("action_item_id", name=op.f("uq_tracker_links_action_item_id")),
    )
    with op.batch_alter_table("tracker_links") as batch:
        batch.create_index(batch.f("ix_tracker_links_next_check_at"), ["next_check_at"], unique=False)
        batch.create_index(batch.f("ix_tracker_links_incident_id"), ["incident_id"], unique=False)


def downgrade() -> None:
    op.drop_table("tracker_links")
