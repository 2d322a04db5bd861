"""Engine and session factories; nothing is created at import time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

POSTGRES_CONNECT_ARGS: dict[str, Any] = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,  # milliseconds
}


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine tuned for the bot: SQLite gets WAL and a busy timeout, PostgreSQL a checked pool."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        @event.listens_for(engine, "savepoint")
        def _sqlite_begin_before_savepoint(conn: Connection, _name: str | None) -> None:
            # pysqlite only opens a transaction before DML, so a leading SAVEPOINT would become the
            # outermost transaction and its RELEASE would commit: open the real transaction first.
            dbapi_conn = conn.connection.dbapi_connection
            if dbapi_conn is not None and not dbapi_conn.in_transaction:
                dbapi_conn.execute("BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # A peer that vanishes without a reset (a partition, a dead host) is noticed within about a minute
    # (TCP keepalives on idle connections, tcp_user_timeout on unanswered ones) instead of hours, so a
    # request, the declare recorder or the tick is never held by a connection that will not answer.
    kwargs.setdefault("connect_args", dict(POSTGRES_CONNECT_ARGS))
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Build the session factory that units of work draw from."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def ping(engine: Engine) -> bool:
    """Tell whether the database answers a trivial query."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means "not reachable" to a health check
        return False
