"""Wake job workers the moment a job is recorded: PostgreSQL NOTIFY on commit, LISTEN on its own connection.

A NOTIFY sent inside the transaction that records a job is delivered only when that transaction commits,
so a worker never wakes for a job it cannot see yet. SQLite has no such thing: there the tick finds the
job. A listener that loses its connection reconnects; meanwhile the tick is the fallback.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from store.db import POSTGRES_CONNECT_ARGS

log = logging.getLogger(__name__)

CHANNEL = "incidentbot_jobs"
# A job finished (done or given up): a web replica waiting to reply hears how it ended at once.
DONE_CHANNEL = "incidentbot_jobs_done"
RECONNECT_SECONDS = 1.0
# How long one wait for notifications lasts, so a stop request is seen within this long.
POLL_SECONDS = 0.5


def is_postgres(session: Session) -> bool:
    """Whether this session's database has LISTEN/NOTIFY (and FOR UPDATE SKIP LOCKED)."""
    return session.get_bind().dialect.name == "postgresql"


def notify_jobs(session: Session) -> None:
    """Tell listening workers, when this transaction commits, that jobs are due (no-op on SQLite)."""
    if is_postgres(session):
        # One payload for every notice: PostgreSQL folds identical ones in a transaction into one.
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


def notify_job_finished(session: Session, job_id: int) -> None:
    """Tell web replicas, on commit, that this job finished and how (no-op on SQLite): the notice carries
    what their waiting reply needs, so they read nothing. Sent after the transaction's other writes."""
    if is_postgres(session):
        session.execute(_FINISHED_NOTICE, {"channel": DONE_CHANNEL, "job": job_id})


# "<job id> <1 if it gave up, else 0> <its incident's room, or nothing>"
_FINISHED_NOTICE = text(
    "SELECT pg_notify(:channel, j.id || ' ' || CASE WHEN j.last_error IS NULL THEN 0 ELSE 1 END || ' ' "
    "|| coalesce(i.channel_id, '')) "
    "FROM slack_jobs j JOIN incidents i ON i.id = j.incident_id WHERE j.id = :job"
)


def finished_notice(payload: str) -> tuple[int, bool, str | None] | None:
    """A DONE_CHANNEL notice read back: the job, whether it gave up, its room; None if it is not one."""
    job, _, rest = payload.partition(" ")
    gave_up, _, channel = rest.partition(" ")
    if not job.isdigit() or gave_up not in ("0", "1"):
        return None
    return int(job), gave_up == "1", channel or None


def libpq_conninfo(database_url: str) -> str:
    """The SQLAlchemy URL as a libpq URL for a connection of our own, outside the pool."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class JobListener:
    """A thread that LISTENs on a dedicated connection and calls `wake` whenever jobs are recorded; with
    `heard`, each notice's payload is handed over as it arrives, and `wake` is called only on connecting."""

    def __init__(
        self,
        database_url: str,
        wake: Callable[[], None],
        channel: str = CHANNEL,
        heard: Callable[[str], None] | None = None,
    ) -> None:
        self._conninfo = libpq_conninfo(database_url)
        self._wake = wake
        self._channel = channel
        self._heard = heard
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()  # set while the LISTEN is in place (tests wait on it)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="incidentbot-listen", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=POLL_SECONDS * 4)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, **POSTGRES_CONNECT_ARGS) as conn:
                    conn.execute(f"LISTEN {self._channel}")
                    self.listening.set()
                    # Jobs recorded while not listening are found by this first wake, not the next tick.
                    self._wake()
                    while not self._stop.is_set():
                        if self._heard is not None:
                            for notice in conn.notifies(timeout=POLL_SECONDS):
                                self._heard(notice.payload)
                        # A burst's notices arrive together: one wake for all that are waiting.
                        elif any(True for _ in conn.notifies(timeout=POLL_SECONDS, stop_after=1)):
                            self._wake()
            except Exception as exc:  # the database went away: the tick covers until we are back
                log.warning("job listener lost its connection (%s); reconnecting", type(exc).__name__)
            finally:
                self.listening.clear()
            self._stop.wait(RECONNECT_SECONDS)
