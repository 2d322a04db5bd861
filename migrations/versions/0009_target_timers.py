"""Severity targets: the next moment (80% warning or breach) an open incident's targets are due.

Open incidents declared before this revision get no target timers (the targets live in the config,
which a migration cannot read); their next severity change or reopen plans them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("target_due_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(batch.f("ix_incidents_target_due_at"), ["target_due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_index(batch.f("ix_incidents_target_due_at"))
        batch.drop_column("target_due_at")
