"""Postmortems owned, reviewed and current: owner, status, review day, their timers, uploaded versions.

Revision ID: 0018
Revises: 0014
Create Date: 2026-11-30 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    "postmortem_owner",
    "postmortem_status",
    "review_date",
    "postmortem_due_at",
    "postmortem_refresh_at",
)
_TIMERS = ("postmortem_due_at", "postmortem_refresh_at")


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("postmortem_owner", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("postmortem_status", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("review_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("postmortem_due_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("postmortem_refresh_at", sa.DateTime(timezone=True), nullable=True))
        for column in _TIMERS:
            batch.create_index(op.f(f"ix_incidents_{column}"), [column], unique=False)
    op.create_table(
        "postmortem_versions",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_postmortem_versions_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "version", name=op.f("pk_postmortem_versions")),
    )
    op.create_index(op.f("ix_postmortem_versions_job_id"), "postmortem_versions", ["job_id"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_postmortem_versions_job_id"), table_name="postmortem_versions")
    op.drop_table("postmortem_versions")
    with op.batch_alter_table("incidents") as batch:
        for column in _TIMERS:
            batch.drop_index(op.f(f"ix_incidents_{column}"))
        for column in reversed(_COLUMNS):
            batch.drop_column(column)
