"""Triage and lifecycle: type, services, drill, impact and urgency; duplicates; stale and archive timers;
checklists.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("incident_type", sa.String(40), nullable=True))
        batch.add_column(sa.Column("services", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch.add_column(sa.Column("drill", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("impact", sa.String(10), nullable=True))
        batch.add_column(sa.Column("urgency", sa.String(10), nullable=True))
        batch.add_column(sa.Column("duplicate_of", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("possible_duplicate_of", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("stale_due_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("archive_due_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("postmortem_outdated_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_incidents_duplicate_of_incidents"), "incidents", ["duplicate_of"], ["id"]
        )
        batch.create_index(batch.f("ix_incidents_stale_due_at"), ["stale_due_at"], unique=False)
        batch.create_index(batch.f("ix_incidents_archive_due_at"), ["archive_due_at"], unique=False)
        # Possible duplicates: a declaration reads the open incidents of the last day through this index.
        batch.create_index(batch.f("ix_incidents_declared_at"), ["declared_at"], unique=False)
    op.create_table(
        "checklist_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("done_by", sa.String(40), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("checklist_items") as batch:
        batch.create_index(batch.f("ix_checklist_items_incident_id"), ["incident_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("checklist_items") as batch:
        batch.drop_index(batch.f("ix_checklist_items_incident_id"))
    op.drop_table("checklist_items")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_index(batch.f("ix_incidents_declared_at"))
        batch.drop_index(batch.f("ix_incidents_archive_due_at"))
        batch.drop_index(batch.f("ix_incidents_stale_due_at"))
        batch.drop_constraint(batch.f("fk_incidents_duplicate_of_incidents"), type_="foreignkey")
        for column in (
            "postmortem_outdated_at",
            "last_activity_at",
            "archived_at",
            "archive_due_at",
            "stale_due_at",
            "possible_duplicate_of",
            "duplicate_of",
            "urgency",
            "impact",
            "drill",
            "services",
            "incident_type",
        ):
            batch.drop_column(column)
