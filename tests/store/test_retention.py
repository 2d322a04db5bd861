"""Retention on every backend: what is past its time goes, a batch at a time, once, through an index."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event, select

from bot.ops.config import IncidentConfig, RetentionConfig
from bot.ops.export import export_record
from bot.ops.maintenance import delete_finished_jobs, prune, prune_timeline_text
from bot.render.postmortem import PostmortemDrafts
from commands.note import add_note
from commands.parsing import Note
from store.models import Incident, SlackJob
from store.retention import PRUNED_TEXT
from store.uow import SqlUnitOfWorkFactory
from tests.lifecycle_seed import NOW, PERMALINK, SECRET, seed_incident, timeline_texts

DAY = timedelta(days=1)
KEEP = 90 * DAY


class Clock:
    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


def add_jobs(uow: SqlUnitOfWorkFactory, incident_id: int, finished: list[datetime | None]) -> list[int]:
    """One job per entry: finished at that time, or still owed (None)."""
    with uow() as tx:
        jobs = [
            SlackJob(
                kind="update",
                incident_id=incident_id,
                created_at=NOW - 60 * DAY,
                finished_at=at,
                due_at=None if at else NOW,
                payload={"message": SECRET, "by": "U2"},
            )
            for at in finished
        ]
        for job in jobs:
            tx.jobs.add(job)
        tx.commit()
        return [job.id for job in jobs]


def job_ids(uow: SqlUnitOfWorkFactory) -> list[int]:
    with uow() as tx:
        return list(tx.session.scalars(select(SlackJob.id).order_by(SlackJob.id)))


def engine_of(uow: SqlUnitOfWorkFactory) -> Engine:
    bind = uow.session_factory.kw["bind"]
    assert isinstance(bind, Engine)
    return bind


@contextmanager
def statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        seen.append((sql, params))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


# --- finished jobs -------------------------------------------------------------------------------


def test_finished_jobs_past_retention_go_oldest_first_a_batch_at_a_time(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    n = seed_incident(uow_factory, declared_at=NOW - 100 * DAY)
    old = [NOW - (45 - i) * DAY for i in range(5)]
    ids = add_jobs(uow_factory, n, [*old, NOW - 10 * DAY, None, NOW - 50 * DAY])
    seeded = ids[0] - 1  # the seeded incident's own finished update job, 100 days old
    clock = Clock(NOW)

    assert delete_finished_jobs(uow_factory, clock, 30 * DAY, limit=3) == 3
    assert seeded not in job_ids(uow_factory) and ids[4] in job_ids(uow_factory)
    assert delete_finished_jobs(uow_factory, clock, 30 * DAY, limit=3) == 3
    assert delete_finished_jobs(uow_factory, clock, 30 * DAY, limit=3) == 0
    # Kept: finished 10 days ago, still owed, and the newest job of all (even though it is old).
    assert job_ids(uow_factory) == ids[5:]


def test_the_newest_job_is_kept_so_no_job_id_is_ever_reused(uow_factory: SqlUnitOfWorkFactory) -> None:
    n = seed_incident(uow_factory, declared_at=NOW - 100 * DAY)
    last = add_jobs(uow_factory, n, [NOW - 40 * DAY])[-1]
    assert delete_finished_jobs(uow_factory, Clock(NOW), 30 * DAY) == 1
    # A reused id would make a new draft look already shared: its post is recorded as postmortem:<job id>.
    (new,) = add_jobs(uow_factory, n, [None])
    assert new > last


def test_replicas_pruning_at_once_delete_each_job_once(uow_factory: SqlUnitOfWorkFactory) -> None:
    n = seed_incident(uow_factory, declared_at=NOW - 100 * DAY)
    add_jobs(uow_factory, n, [NOW - 40 * DAY] * 60)
    other = SqlUnitOfWorkFactory(uow_factory.session_factory)
    counts: list[int] = []
    start = threading.Barrier(2)

    def replica(uow: SqlUnitOfWorkFactory) -> None:
        start.wait()
        while removed := delete_finished_jobs(uow, Clock(NOW), 30 * DAY, limit=7):
            counts.append(removed)

    threads = [threading.Thread(target=replica, args=(u,)) for u in (uow_factory, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(counts) == 60  # 61 old finished jobs, the newest kept
    assert len(job_ids(uow_factory)) == 1


# --- timeline text -------------------------------------------------------------------------------


def test_text_of_pins_and_notes_goes_once_resolved_long_enough_and_the_rest_stays(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    old = seed_incident(uow_factory, declared_at=NOW - 100 * DAY)
    recent = seed_incident(uow_factory, declared_at=NOW - 30 * DAY)
    still_open = seed_incident(uow_factory, declared_at=NOW - 200 * DAY, resolved_after=None)
    before = timeline_texts(uow_factory, old)

    assert prune_timeline_text(uow_factory, Clock(NOW), KEEP) == (1, 2)

    after = timeline_texts(uow_factory, old)
    assert after["pinned"] == after["note"] == PRUNED_TEXT
    assert {k: v for k, v in after.items() if k not in ("pinned", "note")} == {
        k: v for k, v in before.items() if k not in ("pinned", "note")
    }
    with uow_factory() as tx:
        pin = next(e for e in tx.timeline.list_for(old) if e.kind == "pinned")
        assert (pin.actor, pin.permalink, pin.message_ts) == ("U3", PERMALINK, "1700000000.000100")
        assert pin.data["pinned_by"] == "U2"
        assert pin.occurred_at == NOW - 100 * DAY + timedelta(minutes=2)
    for untouched in (recent, still_open):
        assert timeline_texts(uow_factory, untouched)["pinned"] == SECRET
    assert prune_timeline_text(uow_factory, Clock(NOW), KEEP) == (0, 0)


def test_postmortem_draft_and_json_export_still_work_after_pruning(uow_factory: SqlUnitOfWorkFactory) -> None:
    n = seed_incident(uow_factory, declared_at=NOW - 100 * DAY)
    prune_timeline_text(uow_factory, Clock(NOW), KEEP)
    drafts = PostmortemDrafts.for_config(uow_factory, IncidentConfig())
    pm = drafts.data(n)
    assert pm is not None
    markdown = drafts.markdown(pm).decode()
    assert SECRET not in markdown and "removed by the retention policy" in markdown
    assert PERMALINK in markdown and "@carol" in markdown  # the pin's author and link stay
    assert "Rolling back the deploy" in markdown and "Rotate the db password" in markdown
    assert pm.durations.to_resolve == timedelta(hours=2) and len(pm.updates) == 1
    record = export_record(pm)
    assert SECRET not in str(record)


def test_a_note_added_after_pruning_is_pruned_too(uow_factory: SqlUnitOfWorkFactory) -> None:
    n = seed_incident(uow_factory, declared_at=NOW - 100 * DAY, channel="C42")
    clock = Clock(NOW)
    prune_timeline_text(uow_factory, clock, KEEP)
    add_note(
        Note("the new password is hunter3"),
        user_id="U1",
        channel_id="C42",
        uow=uow_factory,
        clock=clock,
        settings=IncidentConfig(),
    )
    with uow_factory() as tx:
        assert tx.session.get_one(Incident, n).timeline_pruned_at is None
    assert prune_timeline_text(uow_factory, clock, KEEP) == (1, 1)
    with uow_factory() as tx:
        assert "hunter3" not in str([e.text for e in tx.timeline.list_for(n)])


def test_replicas_pruning_text_at_once_prune_each_incident_once(uow_factory: SqlUnitOfWorkFactory) -> None:
    for _ in range(12):
        seed_incident(uow_factory, declared_at=NOW - 100 * DAY)
    other = SqlUnitOfWorkFactory(uow_factory.session_factory)
    done: list[tuple[int, int]] = []
    start = threading.Barrier(2)

    def replica(uow: SqlUnitOfWorkFactory) -> None:
        start.wait()
        while (result := prune_timeline_text(uow, Clock(NOW), KEEP, limit=5))[0]:
            done.append(result)

    threads = [threading.Thread(target=replica, args=(u,)) for u in (uow_factory, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(i for i, _ in done) == 12 and sum(e for _, e in done) == 24


# --- cost ----------------------------------------------------------------------------------------


def test_with_nothing_due_a_pass_is_one_indexed_query_per_setting(uow_factory: SqlUnitOfWorkFactory) -> None:
    for days in (100, 101):
        n = seed_incident(uow_factory, declared_at=NOW - days * DAY)
    add_jobs(uow_factory, n, [NOW - 40 * DAY] * 3)
    retention = RetentionConfig(timeline_text=KEEP, finished_jobs=30 * DAY)
    prune(uow_factory, Clock(NOW), retention)  # the backlog goes; what stays is history

    engine = engine_of(uow_factory)
    with statements(engine) as seen:
        assert prune(uow_factory, Clock(NOW), retention).jobs == 0
    queries = [(sql, params) for sql, params in seen if sql.lstrip().upper().startswith("SELECT")]
    assert len(queries) == len(seen) == 2
    indexes = ("ix_slack_jobs_finished_at", "ix_incidents_timeline_pruned_at_resolved_at")
    for (sql, params), index in zip(queries, indexes, strict=True):
        assert index in query_plan(engine, sql, params)


def test_with_defaults_only_finished_jobs_are_looked_at(uow_factory: SqlUnitOfWorkFactory) -> None:
    with statements(engine_of(uow_factory)) as seen:
        prune(uow_factory, Clock(NOW), IncidentConfig().retention)
    assert len(seen) == 1 and "slack_jobs" in seen[0][0]


def query_plan(engine: Engine, sql: str, params: Any) -> str:
    """The plan the database would use; PostgreSQL is told to avoid scans, as it would on a big table."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
            return " ".join(str(r[-1]) for r in rows)
        conn.exec_driver_sql("SET enable_seqscan = off")
        rows = conn.exec_driver_sql("EXPLAIN " + sql, params).fetchall()
        return " ".join(str(r[0]) for r in rows)
