"""Declaring from alerts over the in-memory store: what is declared, what a delivery adds, what never."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.ops.config import AlertsConfig, IncidentConfig, TypeConfig
from bot.webhooks.alert_payload import PayloadError, parse_delivery
from commands.alerts import Alert, AlertDelivery, AlertOutcome, record_alerts
from commands.limits import RateLimited
from tests.unit.fakes import FakeDatabase, same_state

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class Clock:
    def now(self) -> datetime:
        return NOW


def alert(fp: str, *, firing: bool = True, **labels: str) -> Alert:
    return Alert(fp, labels.get("alertname", "A") + fp, firing, {"alertname": "A", **labels}, {})


def group(*alerts: Alert, firing: bool = True, **common: str) -> AlertDelivery:
    return AlertDelivery("alertmanager", "Alertmanager", "g", firing, alerts, common, {})


def deliver(db: FakeDatabase, delivery: AlertDelivery, config: IncidentConfig | None = None) -> AlertOutcome:
    settings = config or IncidentConfig()
    result = record_alerts(delivery, uow=db, clock=Clock(), settings=settings, lease=timedelta(seconds=30))
    return result.outcome


def test_severity_comes_from_the_label_by_name_or_map_else_the_default() -> None:
    config = IncidentConfig(alerts=AlertsConfig(severity_label="priority", severity_map={"P1": "sev1"}))
    for value, expected in (("SEV2", "sev2"), ("P1", "sev1"), ("p1", "sev4"), (None, "sev4")):
        db = FakeDatabase()
        labels = {"priority": value} if value else {}
        assert deliver(db, group(alert("1", **labels)), config) is AlertOutcome.DECLARED
        assert db.incident(1).severity == expected, value


def test_an_unknown_mapped_severity_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="unknown severity 'sev9'"):
        IncidentConfig(alerts=AlertsConfig(severity_map={"critical": "sev9"}))


def test_alerts_never_declare_drills_even_when_the_default_type_is_one() -> None:
    db = FakeDatabase()
    config = IncidentConfig(types={"default": TypeConfig(drill=True)})
    deliver(db, group(alert("1")), config)
    assert db.incident(1).drill is False and db.incident(1).incident_type is None


def test_only_changes_reach_the_timeline() -> None:
    db = FakeDatabase()
    deliver(db, group(alert("1")))
    before = db.snapshot()
    assert deliver(db, group(alert("1"))) is AlertOutcome.UNCHANGED
    assert same_state(before, db.snapshot())
    assert deliver(db, group(alert("1", firing=False), alert("2"))) is AlertOutcome.UPDATED
    [event] = db.events(1, "alerts_firing")[1:]
    assert (event.data["new"], event.data["resolved"], event.data["firing"]) == (["A2"], ["A1"], ["A2"])
    assert deliver(db, group(alert("2", firing=False), firing=False)) is AlertOutcome.UPDATED
    [resolved] = db.events(1, "alerts_resolved")
    assert resolved.data["resolved"] == ["A2"] and db.incident(1).status == "investigating"
    assert deliver(db, group(alert("2", firing=False), firing=False)) is AlertOutcome.UNCHANGED


def test_a_resolved_group_with_no_incident_declares_nothing() -> None:
    db = FakeDatabase()
    before = db.snapshot()
    assert deliver(db, group(alert("1", firing=False), firing=False)) is AlertOutcome.IGNORED
    assert same_state(before, db.snapshot())


def test_over_the_declare_rate_limit_nothing_is_recorded() -> None:
    db = FakeDatabase()
    config = IncidentConfig(declare_rate_limit="1/1h")
    deliver(db, group(alert("1")), config)
    before = db.snapshot()
    with pytest.raises(RateLimited):
        deliver(db, replace(group(alert("1")), group_key="other"), config)
    assert same_state(before, db.snapshot())


def test_payloads_of_the_wrong_shape_are_refused_with_a_fixed_reason() -> None:
    for body in (
        b"\xff",
        b"null",
        b'{"status": "firing"}',
        b'{"status": "on", "groupKey": "g", "alerts": [{}]}',
    ):
        with pytest.raises(PayloadError):
            parse_delivery("alertmanager", "Alertmanager", body)
    delivery = parse_delivery(
        "grafana",
        "Grafana",
        b'{"status": "firing", "groupKey": "g", '
        b'"alerts": [{"status": "firing", "labels": {"alertname": "X"}}]}',
    )
    [only] = delivery.alerts
    assert only.name == "X" and len(only.fingerprint) == 16  # no fingerprint sent: one from the labels
