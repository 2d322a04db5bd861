"""docs/operations.md's backup and restore commands, run as written, and what a restore does to numbers."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from bot.ops.migrate import upgrade
from store.db import make_engine, make_session_factory
from store.models import Incident, TimelineEvent
from store.uow import SqlUnitOfWorkFactory


def declare(uow: SqlUnitOfWorkFactory, title: str = "Checkout is timing out") -> int:
    """An incident and its first timeline entry in one transaction, as a declare writes them."""
    now = datetime.now(UTC)
    with uow() as tx:
        incident = tx.incidents.add(
            Incident(title=title, severity="sev2", status="investigating", declared_by="U1", declared_at=now)
        )
        tx.timeline.add(TimelineEvent(incident_id=incident.id, kind="declared", text=title, occurred_at=now))
        tx.commit()
        return incident.id


def sqlite_file(url: str) -> Path:
    database = make_url(url).database
    assert database
    return Path(database)


def python_backup(source: Path, target: Path) -> None:
    """The Python form in docs/operations.md (sqlite3.Connection.backup)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    src.backup(dst)
    dst.close()
    src.close()


def test_sqlite_online_backup_while_the_bot_writes_is_whole_and_consistent(
    sqlite_url: str, tmp_path: Path
) -> None:
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    uow = SqlUnitOfWorkFactory(make_session_factory(engine))
    stop = threading.Event()
    declared: list[int] = []

    def bot() -> None:
        while not stop.is_set():
            declared.append(declare(uow))

    writer = threading.Thread(target=bot)
    writer.start()
    (tmp_path / "backups").mkdir()
    copies = [tmp_path / "backups" / "python.db"]
    try:
        while len(declared) < 20:
            stop.wait(0.01)
        python_backup(sqlite_file(sqlite_url), copies[0])
        if shutil.which("sqlite3"):
            copies.append(tmp_path / "backups" / "cli.db")
            command = ["sqlite3", str(sqlite_file(sqlite_url)), f".backup '{copies[1]}'"]
            subprocess.run(command, check=True, timeout=60)
    finally:
        stop.set()
        writer.join()
        engine.dispose()
    for copy in copies:
        with sqlite3.connect(copy) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            ids = [row[0] for row in db.execute("SELECT id FROM incidents ORDER BY id")]
            assert len(ids) >= 20 and ids == list(range(1, len(ids) + 1))
            # Each incident came with its entry: the copy is one moment of the database, never half a commit.
            assert db.execute("SELECT count(*) FROM timeline_events").fetchone() == (len(ids),)


def restore_sqlite(url: str, backup: Path) -> None:
    """Stopped bot; the old file and its -wal and -shm moved aside; the backup copied in (the doc's steps)."""
    live = sqlite_file(url)
    for suffix in ("", "-wal", "-shm"):
        old = live.with_name(live.name + suffix)
        if old.exists():
            old.rename(old.with_name(old.name + ".before-restore"))
    shutil.copyfile(backup, live)


def libpq(url: str) -> str:
    """pg_dump and pg_restore take libpq's URL: postgresql://, without SQLAlchemy's +psycopg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_a_restore_loses_later_incidents_and_hands_their_numbers_out_again(
    db_url: str, tmp_path: Path
) -> None:
    postgres = db_url.startswith("postgresql")
    if postgres and not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump and pg_restore are not installed")
    engine = make_engine(db_url)
    uow = SqlUnitOfWorkFactory(make_session_factory(engine))
    declare(uow), declare(uow)
    (tmp_path / "backups").mkdir()
    backup = tmp_path / "backups" / ("incidentbot.dump" if postgres else "incidentbot.db")
    if postgres:
        subprocess.run(
            ["pg_dump", "--format=custom", f"--file={backup}", libpq(db_url)], check=True, timeout=60
        )
    else:
        python_backup(sqlite_file(db_url), backup)
    lost = [declare(uow, "Search is down"), declare(uow, "Search is down again")]
    assert lost == [3, 4]
    engine.dispose()  # every process stopped

    if postgres:
        restore = [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            f"--dbname={libpq(db_url)}",
            str(backup),
        ]
        subprocess.run(restore, check=True, timeout=60)
    else:
        restore_sqlite(db_url, backup)
    upgrade(db_url)
    engine = make_engine(db_url)
    uow = SqlUnitOfWorkFactory(make_session_factory(engine))
    try:
        assert declare(uow, "Payments are slow") == 3  # INC-3 again: Slack still has #inc-3-search-is-down
        if postgres:
            # The doc's way to keep numbers unique: move the numbering past the highest one Slack shows.
            with engine.begin() as conn:
                conn.execute(text("SELECT setval(pg_get_serial_sequence('incidents', 'id'), 4)"))
            assert declare(uow) == 5
    finally:
        engine.dispose()
