"""Alembic environment: migrate the store's metadata on a given connection, URL, $DATABASE_URL or SQLite."""

from __future__ import annotations

import os
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, create_engine, pool

from store.models import Base, UTCDateTime
from store.paths import default_database_url

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    """Pick the database: explicit config first, then the environment, then the local default."""
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    return url or default_database_url()


def _render_item(type_: str, obj: Any, _autogen_context: AutogenContext) -> str | Literal[False]:
    """Render UTCDateTime as its plain impl so generated revisions never import (and pin) store.models."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(**kwargs: Any) -> None:
    """Shared options: batch mode so SQLite can alter tables, type comparison so drift is detected."""
    context.configure(
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
        **kwargs,
    )


def run_migrations_offline() -> None:
    """Emit SQL for a DBA to apply instead of touching a database."""
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run_on(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate on the connection handed in (tests) or on a short-lived engine of our own."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            _run_on(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
