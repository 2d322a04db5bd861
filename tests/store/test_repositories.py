"""Repository behaviour the actions rely on, checked on every backend the bot supports."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError, StatementError

from store.models import BotPost, Incident, SlackJob
from store.uow import SqlUnitOfWorkFactory

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def _incident(title: str = "Checkout down", *, status: str = "active", at: datetime = NOW) -> Incident:
    return Incident(title=title, severity="sev2", status=status, declared_by="U1", declared_at=at)


def _add_incident(
    uow_factory: SqlUnitOfWorkFactory,
    title: str = "Checkout down",
    *,
    status: str = "active",
    at: datetime = NOW,
) -> int:
    with uow_factory() as uow:
        incident = uow.incidents.add(_incident(title, status=status, at=at))
        uow.commit()
        return incident.id


def _add_job(
    uow_factory: SqlUnitOfWorkFactory, *, due_at: datetime | None, claimed_until: datetime | None = None
) -> int:
    incident_id = _add_incident(uow_factory)
    with uow_factory() as uow:
        job = uow.jobs.add(
            SlackJob(
                kind="provision",
                incident_id=incident_id,
                due_at=due_at,
                claimed_until=claimed_until,
                created_at=NOW,
            )
        )
        uow.commit()
        return job.id


# --- datetimes -----------------------------------------------------------------------------------


def test_datetimes_round_trip_as_aware_utc(uow_factory: SqlUnitOfWorkFactory) -> None:
    declared = datetime(2024, 5, 1, 14, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    incident_id = _add_incident(uow_factory, at=declared)
    with uow_factory() as uow:
        incident = uow.incidents.get(incident_id)
        assert incident is not None
        assert incident.declared_at == declared
        assert incident.declared_at.utcoffset() == timedelta(0)
        assert incident.declared_at.hour == 12
        assert incident.resolved_at is None


def test_naive_datetimes_are_refused(uow_factory: SqlUnitOfWorkFactory) -> None:
    with uow_factory() as uow, pytest.raises(StatementError, match="naive datetime refused"):
        uow.incidents.add(_incident(at=datetime(2024, 5, 1, 12, 0)))
    with uow_factory() as uow:
        assert uow.incidents.list_since() == []


def test_filtering_by_datetime_compares_instants(uow_factory: SqlUnitOfWorkFactory) -> None:
    _add_incident(uow_factory, title="old", at=NOW - timedelta(days=1))
    _add_incident(uow_factory, title="new", at=NOW)
    with uow_factory() as uow:
        since = (NOW - timedelta(hours=1)).astimezone(timezone(timedelta(hours=-7)))
        assert [i.title for i in uow.incidents.list_since(since)] == ["new"]


# --- incidents -----------------------------------------------------------------------------------


def test_incident_ids_are_sequential(uow_factory: SqlUnitOfWorkFactory) -> None:
    ids = [_add_incident(uow_factory, title=f"incident {n}") for n in range(3)]
    assert ids == [1, 2, 3]
    with uow_factory() as uow:
        incident = uow.incidents.get(2)
        assert incident is not None
        assert incident.ref == "INC-2"
        assert incident.title == "incident 1"


def test_list_open_is_newest_first_and_excludes_resolved(uow_factory: SqlUnitOfWorkFactory) -> None:
    _add_incident(uow_factory, title="oldest", at=NOW - timedelta(hours=3))
    _add_incident(uow_factory, title="newest", at=NOW)
    _add_incident(uow_factory, title="resolved", status="resolved", at=NOW + timedelta(hours=1))
    _add_incident(uow_factory, title="middle", at=NOW - timedelta(hours=1))
    with uow_factory() as uow:
        assert [i.title for i in uow.incidents.list_open()] == ["newest", "middle", "oldest"]
        assert [i.title for i in uow.incidents.list_open(limit=1)] == ["newest"]


def test_uncommitted_work_is_rolled_back(uow_factory: SqlUnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.incidents.add(_incident())
    with uow_factory() as uow:
        assert uow.incidents.list_since() == []


# --- bot posts -----------------------------------------------------------------------------------


def test_bot_post_is_unique_per_incident_and_purpose(uow_factory: SqlUnitOfWorkFactory) -> None:
    incident_id = _add_incident(uow_factory)
    other_id = _add_incident(uow_factory)
    with uow_factory() as uow:
        uow.posts.add(
            BotPost(incident_id=incident_id, purpose="kickoff", channel_id="C1", ts="1.1", posted_at=NOW)
        )
        uow.posts.add(
            BotPost(incident_id=other_id, purpose="kickoff", channel_id="C2", ts="2.1", posted_at=NOW)
        )
        uow.commit()
    with uow_factory() as uow:
        uow.posts.add(
            BotPost(incident_id=incident_id, purpose="kickoff", channel_id="C1", ts="1.2", posted_at=NOW)
        )
        with pytest.raises(IntegrityError):
            uow.flush()
    with uow_factory() as uow:
        post = uow.posts.get(incident_id, "kickoff")
        assert post is not None
        assert post.ts == "1.1"
        assert len(uow.posts.list_for(incident_id)) == 1


# --- jobs ----------------------------------------------------------------------------------------


def test_due_ids_lists_only_due_unleased_jobs(uow_factory: SqlUnitOfWorkFactory) -> None:
    due = _add_job(uow_factory, due_at=NOW - timedelta(minutes=1))
    expired_lease = _add_job(
        uow_factory, due_at=NOW - timedelta(minutes=2), claimed_until=NOW - timedelta(seconds=1)
    )
    not_yet_due = NOW + timedelta(minutes=1)
    _add_job(uow_factory, due_at=not_yet_due)
    _add_job(uow_factory, due_at=NOW - timedelta(minutes=3), claimed_until=NOW + timedelta(minutes=1))
    _add_job(uow_factory, due_at=None)  # finished jobs have no due time
    with uow_factory() as uow:
        assert uow.jobs.due_ids(NOW) == [expired_lease, due]  # oldest due first


def test_claim_refuses_jobs_that_are_not_due_or_leased(uow_factory: SqlUnitOfWorkFactory) -> None:
    future = _add_job(uow_factory, due_at=NOW + timedelta(minutes=1))
    leased = _add_job(uow_factory, due_at=NOW, claimed_until=NOW + timedelta(minutes=1))
    with uow_factory() as uow:
        assert uow.jobs.claim(future, NOW, LEASE) is False
        assert uow.jobs.claim(leased, NOW, LEASE) is False


def test_claim_takes_a_lease_until_it_expires(uow_factory: SqlUnitOfWorkFactory) -> None:
    job_id = _add_job(uow_factory, due_at=NOW)
    with uow_factory() as uow:
        assert uow.jobs.claim(job_id, NOW, LEASE) is True
        uow.commit()
    with uow_factory() as uow:
        assert uow.jobs.due_ids(NOW + LEASE - timedelta(seconds=1)) == []
        assert uow.jobs.due_ids(NOW + LEASE + timedelta(seconds=1)) == [job_id]
        job = uow.jobs.get(job_id)
        assert job is not None
        assert job.attempts == 1
        assert job.claimed_until == NOW + LEASE


def test_interleaved_units_of_work_claim_a_job_once(uow_factory: SqlUnitOfWorkFactory) -> None:
    job_id = _add_job(uow_factory, due_at=NOW)
    with uow_factory() as first, uow_factory() as second:
        assert first.jobs.due_ids(NOW) == [job_id]
        assert second.jobs.due_ids(NOW) == [job_id]
        assert first.jobs.claim(job_id, NOW, LEASE) is True
        first.commit()
        assert second.jobs.claim(job_id, NOW, LEASE) is False
        second.commit()
    with uow_factory() as uow:
        job = uow.jobs.get(job_id)
        assert job is not None
        assert job.attempts == 1


def test_racing_threads_claim_each_job_exactly_once(uow_factory: SqlUnitOfWorkFactory) -> None:
    job_ids = [_add_job(uow_factory, due_at=NOW) for _ in range(5)]
    workers = 2
    barrier = threading.Barrier(workers)
    wins: dict[int, list[int]] = {job_id: [] for job_id in job_ids}
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            for job_id in job_ids:
                with uow_factory() as uow:
                    assert job_id in uow.jobs.due_ids(NOW)
                    barrier.wait(timeout=10)
                    if uow.jobs.claim(job_id, NOW, LEASE):
                        wins[job_id].append(number)
                    uow.commit()
                barrier.wait(timeout=10)
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert all(len(winners) == 1 for winners in wins.values()), wins
    with uow_factory() as uow:
        assert uow.jobs.due_ids(NOW) == []


@pytest.mark.postgres
def test_postgres_claim_waits_for_the_holder_then_loses(postgres_url: str) -> None:
    """A claim blocked on another transaction's row lock re-checks the lease once that one commits."""
    from bot.ops.migrate import upgrade
    from store.db import make_engine, make_session_factory

    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    try:
        factory = SqlUnitOfWorkFactory(make_session_factory(engine))
        job_id = _add_job(factory, due_at=NOW)
        result: list[bool] = []
        with factory() as holder:
            assert holder.jobs.claim(job_id, NOW, LEASE) is True

            def contender() -> None:
                with factory() as uow:
                    result.append(uow.jobs.claim(job_id, NOW, LEASE))
                    uow.commit()

            thread = threading.Thread(target=contender)
            thread.start()
            thread.join(timeout=0.5)
            assert thread.is_alive(), "the contender should be waiting on the row lock"
            holder.commit()
        thread.join(timeout=10)
        assert result == [False]
    finally:
        engine.dispose()


# --- deliveries ----------------------------------------------------------------------------------


def test_first_time_is_true_once_per_key(uow_factory: SqlUnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert uow.deliveries.first_time("evt-1", NOW) is True
        assert uow.deliveries.first_time("evt-1", NOW) is False
        assert uow.deliveries.first_time("evt-2", NOW) is True
        uow.commit()


def test_first_time_is_shared_across_sessions(uow_factory: SqlUnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert uow.deliveries.first_time("evt-1", NOW) is True
        uow.commit()
    with uow_factory() as uow:
        assert uow.deliveries.first_time("evt-1", NOW) is False
        # the failed insert must not poison the rest of the unit of work
        assert uow.deliveries.first_time("evt-2", NOW) is True
        uow.commit()
    with uow_factory() as uow:
        assert uow.deliveries.first_time("evt-2", NOW) is False


def test_first_time_is_undone_when_the_unit_of_work_rolls_back(uow_factory: SqlUnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert uow.deliveries.first_time("evt-1", NOW) is True
    with uow_factory() as uow:
        assert uow.deliveries.first_time("evt-1", NOW) is True


def test_expire_removes_only_old_deliveries(uow_factory: SqlUnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        uow.deliveries.first_time("old", NOW - timedelta(days=2))
        uow.deliveries.first_time("recent", NOW - timedelta(hours=1))
        uow.commit()
    with uow_factory() as uow:
        assert uow.deliveries.expire(NOW - timedelta(days=1)) == 1
        uow.commit()
    with uow_factory() as uow:
        assert uow.deliveries.first_time("old", NOW) is True
        assert uow.deliveries.first_time("recent", NOW) is False


def test_declarations_recorded_together_get_their_own_rows_and_skip_repeated_deliveries(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    from bot.ops.config import IncidentConfig
    from commands.declare import DeclareRequest, declare_incidents
    from commands.incidents import Scheduled
    from commands.parsing import Declare
    from tests.scenario.conftest import FakeClock

    def request(title: str, key: str | None = None) -> DeclareRequest:
        return DeclareRequest(Declare(title=title, severity="sev1"), "U1", "C1", delivery_key=key)

    deps = {"uow": uow_factory, "clock": FakeClock(), "settings": IncidentConfig(), "lease": LEASE}
    first = declare_incidents([request("A"), request("B", "form:1"), request("B again", "form:1")], **deps)
    again = declare_incidents([request("B retried", "form:1"), request("C")], **deps)

    assert [s.incident.title if s else None for s in first] == ["A", "B", None]
    assert [s.incident.title if s else None for s in again] == [None, "C"]
    scheduled = [s for s in first + again if isinstance(s, Scheduled)]
    with uow_factory() as uow:
        for s in scheduled:
            incident = uow.incidents.get(s.incident.id)
            assert incident is not None and incident.title == s.incident.title
            assert [e.kind for e in uow.timeline.list_for(s.incident.id)] == ["declared"]
            [job] = uow.jobs.pending_for(s.incident.id)
            assert (job.id, job.kind, job.attempts) == (s.job_id, "provision", 1)
    assert [s.incident.id for s in scheduled] == [1, 2, 3]


def test_a_batch_of_look_alike_declares_links_each_to_the_one_before(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    """An alert storm's titles all look alike: every later one points at its predecessor, as stored."""
    from bot.ops.config import IncidentConfig
    from commands.declare import DeclareRequest, declare_incidents
    from commands.incidents import Scheduled
    from commands.parsing import Declare
    from tests.scenario.conftest import FakeClock

    titles = [f"Checkout errors on node {n}" for n in range(12)] + ["Search is slow"]
    requests = [
        DeclareRequest(Declare(title=title, severity="sev1"), f"U{n}", "C1") for n, title in enumerate(titles)
    ]
    deps = {"uow": uow_factory, "clock": FakeClock(), "settings": IncidentConfig(), "lease": LEASE}
    scheduled = [s for s in declare_incidents(requests, **deps) if isinstance(s, Scheduled)]
    ids = [s.incident.id for s in scheduled]
    with uow_factory() as uow:
        stored = [getattr(uow.incidents.get(i), "possible_duplicate_of", "missing") for i in ids]
    assert stored == [None, *ids[:11], None]
    assert [s.incident.possible_duplicate_of for s in scheduled] == [None, *ids[:11], None]


def test_postgres_connections_detect_a_silent_peer(postgres_url: str) -> None:
    from store.db import make_engine

    engine = make_engine(postgres_url)
    try:
        with engine.connect() as conn:
            dbapi = conn.connection.dbapi_connection
            assert dbapi is not None
            params = dbapi.info.get_parameters()  # what libpq was actually given
    finally:
        engine.dispose()
    assert params["keepalives"] == "1" and int(params["keepalives_idle"]) <= 60
    assert int(params["tcp_user_timeout"]) <= 60_000 and params["connect_timeout"] == "5"


def test_recent_open_reads_what_the_duplicate_check_needs_newest_first(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    old = _add_incident(uow_factory, "Too old", at=NOW - timedelta(hours=3))
    first = _add_incident(uow_factory, "Checkout down", at=NOW - timedelta(minutes=30))
    _add_incident(uow_factory, "Resolved one", status="resolved", at=NOW - timedelta(minutes=20))
    with uow_factory() as uow:
        hidden = _incident("Private one", at=NOW - timedelta(minutes=10))
        hidden.private = True
        uow.incidents.add(hidden)
        uow.commit()
    second = _add_incident(uow_factory, "Payments slow", at=NOW - timedelta(minutes=5))
    with uow_factory() as uow:
        uow.incidents.update_columns(second, {"services": ["payments"], "drill": True})
        uow.commit()
    with uow_factory() as uow:
        found = uow.incidents.recent_open(NOW - timedelta(hours=2), 10)
        assert [i.id for i in found] == [second, first]
        newest = found[0]
        assert (newest.title, newest.status, newest.private, newest.drill, newest.services) == (
            "Payments slow",
            "active",
            False,
            True,
            ["payments"],
        )
        assert newest.declared_at == NOW - timedelta(minutes=5)
        # A batch naming no service cannot share one: the services are not read (and read as none).
        [without] = uow.incidents.recent_open(NOW - timedelta(hours=2), 1, services=False)
        assert (without.id, without.title, without.services) == (second, "Payments slow", [])
        assert [i.id for i in uow.incidents.recent_open(NOW - timedelta(hours=4), 1)] == [second]
        assert old not in [i.id for i in uow.incidents.recent_open(NOW - timedelta(hours=2), 10)]
