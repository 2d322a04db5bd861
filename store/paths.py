"""Where the embedded SQLite database lives by default; standard library only, so importing it is free."""

from __future__ import annotations

import os
from pathlib import Path


def default_sqlite_path() -> Path:
    """The database file used without DATABASE_URL: per user, whatever the working directory.

    The XDG base directory rule: $XDG_DATA_HOME when it is an absolute path, else ~/.local/share.
    """
    base = os.environ.get("XDG_DATA_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "share"
    return root / "incidentbot" / "incidentbot.db"


def default_database_url() -> str:
    """The default SQLAlchemy URL; absolute, so `db upgrade`, `serve` and `export` find the same file."""
    return f"sqlite:///{default_sqlite_path()}"
