"""Exports carry private incidents' titles and timelines: their owner alone may read them, any umask."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from bot.ops.config import IncidentConfig
from bot.ops.migrate import upgrade
from commands.parsing import Declare
from commands.ports import SystemClock
from store.db import make_engine, make_session_factory
from store.uow import SqlUnitOfWorkFactory
from tests.declare_one import declare_incident


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def export(database_url: str, *args: str) -> None:
    """`incidentbot export …` as an operator runs it, under the most permissive umask there is."""
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("INCIDENTBOT_CONFIG", None)
    command = " ".join(["umask 000 &&", "exec", sys.executable, "-m", "bot", "export", *args])
    subprocess.run(["sh", "-c", command], env=env, check=True, timeout=60, capture_output=True)


def test_exports_and_the_directories_they_create_are_owner_only(sqlite_url: str, tmp_path: Path) -> None:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        for title, private in (("Payroll export leaked", True), ("Checkout is slow", False)):
            declare_incident(
                Declare(title=title, severity="sev2", private=private),
                user_id="U1",
                channel_id=None,
                uow=SqlUnitOfWorkFactory(make_session_factory(engine)),
                clock=SystemClock(),
                settings=IncidentConfig(),
                lease=timedelta(seconds=30),
            )
    finally:
        engine.dispose()

    nested = tmp_path / "exports" / "2026"
    export(sqlite_url, "--all", "-o", str(nested))
    assert {p.name: mode(p) for p in nested.iterdir()} == {"INC-1.md": 0o600, "INC-2.md": 0o600}
    assert mode(nested) == 0o700 and mode(nested.parent) == 0o700
    assert b"Payroll export leaked" in (nested / "INC-1.md").read_bytes()

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    export(sqlite_url, "--all", "--format", "json", "-o", str(shared))
    assert mode(shared) == 0o755, "a directory the operator chose keeps its mode"
    assert {mode(p) for p in shared.iterdir()} == {0o600}

    one = tmp_path / "INC-1.md"
    export(sqlite_url, "INC-1", "-o", str(one))
    assert mode(one) == 0o600
    existing = tmp_path / "INC-1.json"
    existing.write_text("{}")
    existing.chmod(0o644)
    export(sqlite_url, "INC-1", "--format", "json", "-o", str(existing))
    assert mode(existing) == 0o600 and b"Payroll export leaked" in existing.read_bytes()
