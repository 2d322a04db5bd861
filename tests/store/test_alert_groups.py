"""Alert groups on SQLite and PostgreSQL: one claim per source and key, even when transactions race."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from bot.ops.config import IncidentConfig
from commands.alerts import Alert, AlertDelivery, AlertOutcome, record_alerts
from commands.records import AlertGroupState
from store.uow import SqlUnitOfWorkFactory

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class _Clock:
    def now(self) -> datetime:
        return NOW


def _delivery(key: str = 'k{alertname="A"}') -> AlertDelivery:
    alert = Alert("fp1", "A", True, {"alertname": "A"}, {"summary": "A is firing"})
    return AlertDelivery("alertmanager", "Alertmanager", key, True, (alert,), {"alertname": "A"}, {})


def test_a_group_is_claimed_once_per_source(uow_factory: SqlUnitOfWorkFactory) -> None:
    with uow_factory() as tx:
        assert tx.alert_groups.lock("alertmanager", "g") is None
        assert tx.alert_groups.claim("alertmanager", "g", NOW)
        assert not tx.alert_groups.claim("alertmanager", "g", NOW)  # the key refuses a second claim
        assert tx.alert_groups.claim("grafana", "g", NOW)  # another source's namespace
        tx.commit()
    with uow_factory() as tx:
        assert not tx.alert_groups.claim("alertmanager", "g", NOW)
        tx.alert_groups.save("alertmanager", "g", AlertGroupState(None, {"fp": "A"}), NOW)
        tx.commit()
    with uow_factory() as tx:
        assert tx.alert_groups.lock("alertmanager", "g") == AlertGroupState(None, {"fp": "A"})


def test_racing_transactions_declare_one_incident(uow_factory: SqlUnitOfWorkFactory) -> None:
    config = IncidentConfig()
    outcomes: list[AlertOutcome] = []
    start = threading.Barrier(6)

    def deliver() -> None:
        start.wait()
        result = record_alerts(
            _delivery(), uow=uow_factory, clock=_Clock(), settings=config, lease=timedelta(seconds=30)
        )
        outcomes.append(result.outcome)

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [AlertOutcome.DECLARED] + [AlertOutcome.UNCHANGED] * 5
    with uow_factory() as tx:
        assert len(tx.incidents.list_since()) == 1
        assert tx.alert_groups.lock("alertmanager", 'k{alertname="A"}') == AlertGroupState(1, {"fp1": "A"})


def test_a_claim_racing_an_uncommitted_one_loses_once_it_commits(uow_factory: SqlUnitOfWorkFactory) -> None:
    """The unique key alone (no group lock taken) still lets only one of two open transactions claim."""
    claimed = threading.Event()
    results: list[bool] = []

    def second() -> None:
        claimed.wait()
        with uow_factory() as tx:
            results.append(tx.alert_groups.claim("alertmanager", "race", NOW))
            tx.commit()

    thread = threading.Thread(target=second)
    thread.start()
    with uow_factory() as tx:
        assert tx.alert_groups.claim("alertmanager", "race", NOW)
        claimed.set()
        thread.join(timeout=0.5)  # the second claim waits on ours
        tx.commit()
    thread.join()
    assert results == [False]
