"""App Home: who has opened it (and whose view is stale), and how far the refresh has read the timeline.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "home_viewers",
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stale_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_home_viewers")),
    )
    op.create_index(op.f("ix_home_viewers_stale_since"), "home_viewers", ["stale_since"], unique=False)
    op.create_table(
        "home_cursor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_home_cursor")),
    )


def downgrade() -> None:
    op.drop_table("home_cursor")
    op.drop_index(op.f("ix_home_viewers_stale_since"), table_name="home_viewers")
    op.drop_table("home_viewers")
