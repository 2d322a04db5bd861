"""Run Alembic migrations programmatically, so neither an alembic.ini nor the source tree is needed."""

from __future__ import annotations

from importlib.resources import files
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config(url: str | None = None, connection: Any = None) -> Config:
    """Build the Alembic config from the installed `migrations` package so it works from any directory."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("migrations")))
    if url is not None:
        # ConfigParser interpolation would choke on a literal '%' (e.g. an escaped password).
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


# Any fixed number: replicas starting together take this PostgreSQL advisory lock in turn.
_MIGRATION_LOCK = 0x1BC1D3B07


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Bring the schema forward; the only supported way to create or change tables.

    On PostgreSQL, concurrent upgrades (several replicas starting at once) are serialised by an
    advisory lock, so each finds the schema either untouched or complete.
    """
    from alembic import command
    from sqlalchemy import create_engine, text

    target = url or _default_url()
    if not target.startswith("postgresql"):
        command.upgrade(alembic_config(url), revision)
        if target.startswith("sqlite"):
            _use_wal(target)
        return
    engine = create_engine(target)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK})
            conn.commit()
            try:
                command.upgrade(alembic_config(target, connection=conn), revision)
                conn.commit()
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK})
                conn.commit()
    finally:
        engine.dispose()


def _use_wal(url: str) -> None:
    """Leave a SQLite file in WAL mode (it persists), so no later connection must switch it under a lock."""
    from store.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect():
            pass  # the engine's connect hook sets journal_mode=WAL
    finally:
        engine.dispose()


def downgrade(url: str | None, revision: str) -> None:
    """Step the schema back, e.g. before rolling back a release."""
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def check(url: str | None = None) -> None:
    """Raise when the models and the migrated schema disagree (a migration is missing)."""
    from alembic import command

    command.check(alembic_config(url))


def current(url: str | None = None) -> str | None:
    """Report the revision the database is at, or None when it has never been migrated."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(url or _default_url())
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def _default_url() -> str:
    """Mirror migrations/env.py's fallback so `current()` looks at the same database as `upgrade()`."""
    import os

    from store.paths import default_database_url

    return os.environ.get("DATABASE_URL") or default_database_url()


def schema_problem(url: str) -> str | None:
    """Why the database cannot serve a command that reads it (never migrated, or behind this version)."""
    from alembic.script import ScriptDirectory

    at = current(url)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if at is None:
        return "the database has no incidentbot tables yet: run `incidentbot db upgrade` first"
    if at != head:
        return f"the database is at revision {at}, this version needs {head}: run `incidentbot db upgrade`"
    return None
