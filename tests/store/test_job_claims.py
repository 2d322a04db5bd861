"""How workers take jobs: a batch claim that concurrent workers split, hand-off recording, NOTIFY, and
when the next job becomes claimable; on every backend."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from store.models import Incident, SlackJob
from store.notify import CHANNEL, DONE_CHANNEL, JobListener, finished_notice, libpq_conninfo
from store.uow import SqlUnitOfWorkFactory

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=5)


def _jobs(uow_factory: SqlUnitOfWorkFactory, count: int, *, claimed: bool = False) -> list[int]:
    with uow_factory() as uow:
        incident = uow.incidents.add(
            Incident(
                title="Checkout down", severity="sev2", status="active", declared_by="U1", declared_at=NOW
            )
        )
        jobs = [
            SlackJob(
                kind="provision",
                incident_id=incident.id,
                due_at=NOW,
                claimed_until=NOW + LEASE if claimed else None,
                attempts=1 if claimed else 0,
                created_at=NOW,
            )
            for _ in range(count)
        ]
        ids = uow.jobs.insert_many(jobs)
        uow.commit()
        return ids


def test_claim_due_takes_at_most_the_limit_oldest_first_and_counts_an_attempt(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    ids = _jobs(uow_factory, 5)
    with uow_factory() as uow:
        assert uow.jobs.claim_due(NOW, LEASE, 3) == ids[:3]
        uow.commit()
    with uow_factory() as uow:
        assert uow.jobs.claim_due(NOW, LEASE, 10) == ids[3:]
        assert uow.jobs.claim_due(NOW, LEASE, 10) == []
        assert [uow.jobs.get(i).attempts for i in ids] == [1] * 5  # type: ignore[union-attr]


def test_concurrent_batch_claims_split_the_jobs_between_workers(uow_factory: SqlUnitOfWorkFactory) -> None:
    ids = _jobs(uow_factory, 40)
    won: list[list[int]] = [[], []]
    barrier = threading.Barrier(2)

    def worker(n: int) -> None:
        barrier.wait(timeout=10)
        while True:
            with uow_factory() as uow:
                claimed = uow.jobs.claim_due(NOW, LEASE, 4)
                uow.commit()
            if not claimed:
                return
            won[n] += claimed

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(won[0] + won[1]) == ids, "a job was claimed twice, or not at all"


def test_a_hand_off_unit_of_work_records_jobs_unclaimed_and_due(uow_factory: SqlUnitOfWorkFactory) -> None:
    handing = SqlUnitOfWorkFactory(uow_factory.session_factory, hand_off=True)
    (job_id,) = _jobs(handing, 1, claimed=True)
    with uow_factory() as uow:
        job = uow.jobs.get(job_id)
        assert job is not None and (job.claimed_until, job.claimed_by, job.attempts) == (None, None, 0)
        assert uow.jobs.claim_due(NOW, LEASE, 10) == [job_id]


def test_next_claimable_is_the_soonest_due_time_or_lease_end(uow_factory: SqlUnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert uow.jobs.next_claimable() is None
    _jobs(uow_factory, 1, claimed=True)
    with uow_factory() as uow:
        assert uow.jobs.next_claimable() == NOW + LEASE


@pytest.mark.postgres
def test_recording_for_the_workers_notifies_them_on_commit(postgres_url: str) -> None:
    from bot.ops.migrate import upgrade
    from store.db import make_engine, make_session_factory

    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    handing = SqlUnitOfWorkFactory(make_session_factory(engine), hand_off=True)
    try:
        with psycopg.connect(libpq_conninfo(postgres_url), autocommit=True) as listen:
            listen.execute(f"LISTEN {CHANNEL}")
            _jobs(handing, 3, claimed=True)
            notices = list(listen.notifies(timeout=2.0, stop_after=5))
        assert [n.channel for n in notices] == [CHANNEL], "one notice per transaction, on commit"
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_the_listener_wakes_its_worker_when_jobs_are_recorded(postgres_url: str) -> None:
    from bot.ops.migrate import upgrade
    from store.db import make_engine, make_session_factory

    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    woken = threading.Event()
    listener = JobListener(postgres_url, woken.set)
    try:
        listener.start()
        assert listener.listening.wait(5)
        woken.clear()  # the wake-up every (re)connection starts with
        _jobs(SqlUnitOfWorkFactory(make_session_factory(engine), hand_off=True), 1, claimed=True)
        assert woken.wait(2), "the listener did not wake on the NOTIFY"
    finally:
        listener.stop()
        engine.dispose()


def test_finished_among_reports_only_finished_jobs_with_how_they_ended_and_their_room(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    ids = _jobs(uow_factory, 4)
    with uow_factory() as uow:
        uow.jobs.update_columns(ids[0], {"finished_at": NOW})
        uow.jobs.update_columns(ids[2], {"finished_at": NOW, "last_error": "channel_not_found"})
        incident_id = uow.jobs.get(ids[0]).incident_id  # type: ignore[union-attr]
        uow.incidents.update_columns(incident_id, {"channel_id": "C9"})
        uow.commit()
    with uow_factory() as uow:
        # Asked twice with different counts: the PostgreSQL form's one SQL text serves any number of ids.
        assert uow.jobs.finished_among([ids[0]]) == {ids[0]: (False, "C9")}
        assert uow.jobs.finished_among([*ids, 10_000]) == {ids[0]: (False, "C9"), ids[2]: (True, "C9")}
        assert uow.jobs.finished_among([]) == {}


@pytest.mark.postgres
def test_finishing_a_job_tells_waiting_web_replicas_how_it_ended_on_commit(postgres_url: str) -> None:
    from bot.ops.migrate import upgrade
    from store.db import make_engine, make_session_factory

    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    uow_factory = SqlUnitOfWorkFactory(make_session_factory(engine))
    try:
        first, second = _jobs(uow_factory, 2)
        with psycopg.connect(libpq_conninfo(postgres_url), autocommit=True) as listen:
            listen.execute(f"LISTEN {DONE_CHANNEL}")
            with uow_factory() as uow:
                uow.jobs.update_columns(first, {"done_steps": ["create_room"], "claimed_until": NOW})
                uow.commit()
            assert list(listen.notifies(timeout=0.5, stop_after=1)) == [], "progress is not an ending"
            with uow_factory() as uow:
                incident_id = uow.jobs.get(first).incident_id  # type: ignore[union-attr]
                uow.incidents.update_columns(incident_id, {"channel_id": "CROOM"})
                uow.jobs.update_columns(first, {"finished_at": NOW, "due_at": None})
                assert list(listen.notifies(timeout=0.3, stop_after=1)) == [], "told before the commit"
                uow.commit()
            [done] = listen.notifies(timeout=2.0, stop_after=1)
            assert (done.channel, finished_notice(done.payload)) == (DONE_CHANNEL, (first, False, "CROOM"))
            with uow_factory() as uow:  # giving up finishes a job too
                uow.jobs.update_columns(second, {"finished_at": NOW, "last_error": "channel_not_found"})
                uow.commit()
            [gave_up] = listen.notifies(timeout=2.0, stop_after=1)
            assert finished_notice(gave_up.payload) == (second, True, "CROOM")
    finally:
        engine.dispose()


def test_a_finished_notice_that_is_not_one_is_ignored() -> None:
    assert finished_notice("12 0 ") == (12, False, None)
    assert (
        finished_notice("") is None and finished_notice("x 1 C1") is None and finished_notice("3 2 C") is None
    )


@pytest.mark.postgres
def test_a_listening_job_watch_answers_from_the_notice_without_reading(postgres_url: str) -> None:
    from bot.ops.migrate import upgrade
    from bot.pipeline.job_watch import JobWatch
    from store.db import make_engine, make_session_factory
    from store.uow import SqlUnitOfWork

    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    uow_factory = SqlUnitOfWorkFactory(make_session_factory(engine))
    reads = 0

    def counted() -> SqlUnitOfWork:
        nonlocal reads
        reads += 1
        return uow_factory()

    listeners: list[JobListener] = []

    def listen(wake: Callable[[], None], heard: Callable[[str], None]) -> JobListener:
        listeners.append(JobListener(postgres_url, wake, channel=DONE_CHANNEL, heard=heard))
        return listeners[-1]

    def finish(job: int, error: str | None) -> None:
        with uow_factory() as uow:
            uow.jobs.update_columns(job, {"finished_at": NOW, "last_error": error})
            uow.commit()

    # Polling every 10 ms would read about 50 times in the half second below, and the fallback read
    # comes only after a minute: answers within seconds, without reads, can only come from the notices.
    watch = JobWatch(counted, interval=0.01, listen=listen, fallback=60.0)
    first, second = _jobs(uow_factory, 2)
    answered: list[object] = []
    try:
        waiter = threading.Thread(target=lambda: answered.append(watch.wait(first, timeout=30)))
        waiter.start()
        while not listeners:
            time.sleep(0.01)
        assert listeners[0].listening.wait(5)
        time.sleep(0.5)
        before = reads
        assert before <= 3, f"{before} reads while nothing finished"
        finish(first, "channel_not_found")
        waiter.join(10)
        assert answered and answered[0] is not None, "the waiter was not answered"
        assert answered[0].gave_up is True  # type: ignore[attr-defined]
        # A reply that starts waiting after its job ended is answered from what was heard.
        finish(second, None)
        deadline = time.monotonic() + 5
        while second not in watch._heard and time.monotonic() < deadline:
            time.sleep(0.01)
        assert watch.wait(second, timeout=0.1) is not None
        assert reads == before, "a notice was answered by reading"
    finally:
        watch.close()
        engine.dispose()
