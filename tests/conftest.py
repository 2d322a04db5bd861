"""Database fixtures shared by the whole suite: every schema comes from Alembic, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.chaos import scratch_database
from bot.ops.migrate import upgrade
from store.db import make_engine, make_session_factory
from store.uow import SqlUnitOfWorkFactory

SERVER_ENV = "INCIDENTBOT_TEST_DATABASE_URL"
REQUIRE_ENV = "INCIDENTBOT_REQUIRE_POSTGRES"


@pytest.fixture(autouse=True)
def _data_home_of_its_own(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may create or use the default database in the home directory of whoever runs the suite."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data-home")))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tag every test that asks for postgres_url directly, so `-m "not postgres"` deselects it."""
    for item in items:
        if "postgres_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A file (not in-memory) SQLite database, so several connections and threads see the same data."""
    return f"sqlite:///{tmp_path / 'incidentbot.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test alone, dropped afterwards."""
    server = os.environ.get(SERVER_ENV)
    if not server:
        reason = (
            f"PostgreSQL tests need {SERVER_ENV} (e.g. postgresql+psycopg://user:pw@127.0.0.1:5433/postgres)"
        )
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {SERVER_ENV} is unset: {reason}")
        pytest.skip(reason)
    with scratch_database(server, prefix="incidentbot_test") as url:
        yield url


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest) -> str:
    """The URL of a database migrated to head, once per backend."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    upgrade(url)
    return url


@pytest.fixture
def uow_factory(db_url: str) -> Iterator[SqlUnitOfWorkFactory]:
    """Units of work on the migrated database, through the same engine settings the bot uses."""
    engine = make_engine(db_url)
    try:
        yield SqlUnitOfWorkFactory(make_session_factory(engine))
    finally:
        engine.dispose()
