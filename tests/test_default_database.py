"""Without DATABASE_URL every command uses one absolute SQLite file, and each says which database it uses."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import types
from argparse import Namespace
from pathlib import Path

import pytest

from bot.ops import migrate
from bot.ops.cli import main
from bot.ops.settings import Settings


@pytest.fixture
def no_database_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No DATABASE_URL, a fresh data home, and a working directory of its own; returns the data home."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("INCIDENTBOT_CONFIG", raising=False)
    home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    return home


def test_the_default_is_an_absolute_file_in_the_xdg_data_home(no_database_url: Path) -> None:
    expected = no_database_url / "incidentbot" / "incidentbot.db"
    assert Settings().database_url == f"sqlite:///{expected}"
    assert expected.is_absolute()


@pytest.mark.parametrize("xdg", [None, "", "relative/dir"])
def test_without_a_usable_xdg_data_home_it_is_under_local_share(
    xdg: str | None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    if xdg is None:
        monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_DATA_HOME", xdg)  # relative paths are ignored, as the XDG spec says
    expected = tmp_path / ".local" / "share" / "incidentbot" / "incidentbot.db"
    assert Settings().database_url == f"sqlite:///{expected}"


def test_db_upgrade_creates_the_default_database_wherever_it_runs_and_says_where(
    no_database_url: Path, tmp_path: Path
) -> None:
    expected = no_database_url / "incidentbot" / "incidentbot.db"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert expected.is_file()
    assert f"Database sqlite:///{expected} is at revision head" in done.stdout
    assert f"INFO bot.ops.cli: database: sqlite:///{expected} (the default" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # nothing in the working directory
    assert migrate.current() == migrate.current(f"sqlite:///{expected}") is not None


@pytest.mark.usefixtures("no_database_url")
def test_serve_logs_the_database_with_its_password_hidden(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = types.ModuleType("bot.ops.server")
    server.serve = lambda _settings, _config: 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bot.ops.server", server)
    monkeypatch.setenv("DATABASE_URL", "postgres://incidentbot:hunter2@db.internal:5432/incidents")
    with caplog.at_level(logging.INFO, logger="bot.ops.cli"):
        assert main(["serve"]) == 0
    assert "database: postgresql+psycopg://incidentbot:***@db.internal:5432/incidents" in caplog.text
    assert "hunter2" not in caplog.text


@pytest.mark.usefixtures("no_database_url")
def test_a_relative_sqlite_path_is_logged_with_the_file_it_means(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///bot.db")
    with caplog.at_level(logging.INFO, logger="bot.ops.cli"):
        assert main(["db", "upgrade"]) == 0
    assert f"database: sqlite:///bot.db (the file {tmp_path / 'bot.db'})" in caplog.text


def test_the_demo_uses_a_scratch_database_of_its_own(no_database_url: Path, tmp_path: Path) -> None:
    from bot.ops.demo import run_demo

    assert run_demo(Namespace(slow=False)) == 0
    assert not no_database_url.exists()
    assert list(tmp_path.iterdir()) == []
