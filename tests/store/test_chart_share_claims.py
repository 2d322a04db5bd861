"""Chart shares and the weekly digest on every backend: claimed once across replicas, posted once a week."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.ops.config import IncidentConfig
from commands import digest
from commands.chart_shares import DIGEST, STATS, NewShare, Reports
from store.chart_shares import SqlChartShares
from store.db import make_engine, make_session_factory
from store.insights import SqlInsights
from store.models import ChartShareRow

# Monday 16 March 2026, 08:00 in Paris (07:00 UTC); the digest is due at 09:00 Paris time.
MONDAY_8AM = datetime(2026, 3, 16, 7, 0, tzinfo=UTC)
CONFIG = IncidentConfig(timezone="Europe/Paris", digest_channel="incident-digest", digest_at="mon 09:00")
LEASE = timedelta(minutes=2)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def replicas(db_url: str) -> Iterator[Callable[[], Reports]]:
    """Each call: the stores of one more replica (its own engine and connections)."""
    engines: list[Any] = []

    def make() -> Reports:
        engine = make_engine(db_url)
        engines.append(engine)
        sessions = make_session_factory(engine)
        return Reports(SqlInsights(sessions), SqlChartShares(sessions))

    yield make
    for engine in engines:
        engine.dispose()


def share(now: datetime, kind: str = STATS) -> NewShare:
    return NewShare(
        kind=kind, channel_id="C1", requested_by="U1", since=now - timedelta(days=30), until=now, asked_at=now
    )


def race(workers: list[Callable[[], Any]]) -> list[Any]:
    """Run the callables at once (released together) and return their results."""
    barrier = threading.Barrier(len(workers))
    results: list[Any] = [None] * len(workers)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = workers[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_a_share_is_claimed_by_one_replica_and_again_only_after_its_lease(
    replicas: Callable[[], Reports],
) -> None:
    a, b = replicas(), replicas()
    share_id = a.shares.add(share(MONDAY_8AM))
    got = race(
        [lambda: a.shares.claim_due(MONDAY_8AM, LEASE, 4), lambda: b.shares.claim_due(MONDAY_8AM, LEASE, 4)]
    )
    claimed = [s for result in got for s in result]
    assert [(s.id, s.attempts) for s in claimed] == [(share_id, 1)]
    assert b.shares.claim_due(MONDAY_8AM + LEASE - timedelta(seconds=1), LEASE, 4) == []
    a.shares.record_file(share_id, "time-to-resolve", "F1")
    (again,) = b.shares.claim_due(MONDAY_8AM + LEASE, LEASE, 4)  # the holder died: taken over
    assert (again.attempts, again.files) == (2, {"time-to-resolve": "F1"})
    b.shares.finish(share_id, MONDAY_8AM + LEASE)
    assert a.shares.claim_due(MONDAY_8AM + timedelta(days=1), LEASE, 4) == []


def test_a_retry_waits_for_its_time(replicas: Callable[[], Reports]) -> None:
    a = replicas()
    share_id = a.shares.add(share(MONDAY_8AM))
    a.shares.claim_due(MONDAY_8AM, LEASE, 4)
    a.shares.retry_at(share_id, MONDAY_8AM + timedelta(seconds=30))
    assert a.shares.claim_due(MONDAY_8AM + timedelta(seconds=29), LEASE, 4) == []
    assert [s.id for s in a.shares.claim_due(MONDAY_8AM + timedelta(seconds=30), LEASE, 4)] == [share_id]


def _tick(reports: Reports, now: datetime, config: IncidentConfig = CONFIG) -> int | None:
    return digest.tick(reports=reports, clock=Clock(now), settings=config)


def test_two_replicas_racing_at_the_moment_record_one_digest(replicas: Callable[[], Reports]) -> None:
    many = [replicas() for _ in range(4)]
    assert race([lambda r=r: _tick(r, MONDAY_8AM) for r in many]) == [None] * 4  # scheduled, not due
    at_nine = MONDAY_8AM + timedelta(hours=1)
    assert _tick(many[0], at_nine - timedelta(seconds=1)) is None
    got = [r for r in race([lambda r=r: _tick(r, at_nine) for r in many]) if r is not None]
    assert len(got) == 1, "exactly one replica claims the week"
    (claimed,) = many[1].shares.claim_due(at_nine, LEASE, 4)
    assert claimed.kind == DIGEST and claimed.channel_id == "incident-digest" and claimed.requested_by is None
    assert (claimed.since, claimed.until) == (at_nine - timedelta(days=7), at_nine)
    assert _tick(many[2], at_nine + timedelta(days=6, hours=23)) is None, "once a week"
    assert _tick(many[3], at_nine + timedelta(days=7)) is not None


def test_after_downtime_spanning_the_moment_one_late_digest_covers_the_latest_week(
    replicas: Callable[[], Reports],
) -> None:
    r = replicas()
    _tick(r, MONDAY_8AM)
    back = MONDAY_8AM + timedelta(days=16)  # down for two Mondays
    assert _tick(r, back) is not None
    assert _tick(r, back + timedelta(minutes=1)) is None, "not once per missed week"
    (late,) = r.shares.claim_due(back, LEASE, 4)
    latest_monday_9 = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # 09:00 CEST, after the DST change
    a_week_before = datetime(2026, 3, 23, 8, 0, tzinfo=UTC)  # 09:00 CET: seven days on the wall clock
    assert (late.since, late.until) == (a_week_before, latest_monday_9)
    nine_next_monday = datetime(2026, 4, 6, 7, 0, tzinfo=UTC)
    assert _tick(r, nine_next_monday - timedelta(seconds=1)) is None
    assert _tick(r, nine_next_monday) is not None


def test_a_changed_digest_at_moves_the_schedule_and_no_channel_means_no_digest(
    replicas: Callable[[], Reports],
) -> None:
    r = replicas()
    _tick(r, MONDAY_8AM)
    tuesday = CONFIG.model_copy(update={"digest_at": "tue 10:00"})
    assert _tick(r, MONDAY_8AM + timedelta(hours=2), tuesday) is None, "rescheduled, nothing owed"
    assert _tick(r, datetime(2026, 3, 17, 8, 59, tzinfo=UTC), tuesday) is None
    assert _tick(r, datetime(2026, 3, 17, 9, 0, tzinfo=UTC), tuesday) is not None
    off = CONFIG.model_copy(update={"digest_channel": None})
    assert _tick(r, MONDAY_8AM + timedelta(days=30), off) is None


def test_finished_shares_are_pruned_a_month_later(replicas: Callable[[], Reports], db_url: str) -> None:
    r = replicas()
    old = r.shares.add(share(MONDAY_8AM))
    r.shares.finish(old, MONDAY_8AM)
    recent = r.shares.add(share(MONDAY_8AM + timedelta(days=31)))
    r.shares.finish(recent, MONDAY_8AM + timedelta(days=31))
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            left = [row[0] for row in conn.execute(select(ChartShareRow.__table__.c.id))]
    finally:
        engine.dispose()
    assert left == [recent]
