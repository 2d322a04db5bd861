"""Alertmanager and Grafana POST real webhook bodies to the running app: alert groups declare incidents."""

from __future__ import annotations

import http.client
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.ops.config import AlertsConfig, IncidentConfig, ServiceConfig
from bot.webhooks import MAX_WEBHOOK_BYTES
from tests.scenario.conftest import FakeClock, Harness, start_harness
from tests.scenario.test_postmortem import shared_files

TOKEN = "alert-token-0123456789abcdef"
REMINDER = "incident_update_reminder"
PAYLOADS = Path(__file__).parent / "alerts"
CONFIG = IncidentConfig(
    admins=["U1"],
    services={"checkout": ServiceConfig(invite=["U2"])},
    alerts=AlertsConfig(severity_map={"critical": "sev1", "warning": "sev3"}),
)


def payload(name: str) -> bytes:
    return (PAYLOADS / f"{name}.json").read_bytes()


def post(h: Harness, source: str, body: bytes, token: str | None = TOKEN, scheme: str = "Bearer") -> int:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"{scheme} {token}"
    request = urllib.request.Request(
        f"{h.server.base_url}/webhooks/{source}", data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return err.code


def oversized(h: Harness, source: str) -> int:
    """Announce a body over the limit: it is refused from its Content-Length, before any of it is read."""
    conn = http.client.HTTPConnection(h.server.base_url.removeprefix("http://"), timeout=10)
    try:
        conn.putrequest("POST", f"/webhooks/{source}")
        conn.putheader("Authorization", f"Bearer {TOKEN}")
        conn.putheader("Content-Length", str(MAX_WEBHOOK_BYTES + 1))
        conn.endheaders()
        return conn.getresponse().status
    finally:
        conn.close()


def incident_count(h: Harness) -> int:
    with h.bot.runtime.uow() as tx:
        return len(tx.incidents.list_since())


@pytest.fixture
def h(sqlite_url: str) -> Iterator[Harness]:
    yield from start_harness(sqlite_url, CONFIG, webhook_token=TOKEN)


@pytest.fixture
def any_db(db_url: str) -> Iterator[Harness]:
    yield from start_harness(db_url, CONFIG, webhook_token=TOKEN)


def test_a_firing_alertmanager_group_declares_an_incident_and_its_room(h: Harness) -> None:
    assert post(h, "alertmanager", payload("alertmanager_firing")) == 202
    h.settle()
    incident = h.incident(1)
    assert incident.title == "Checkout error rate above 5% <@channel>"
    assert (incident.severity, incident.services, incident.drill) == ("sev1", ["checkout"], False)
    assert incident.declared_by == "source:Alertmanager"
    assert incident.description == "5xx from checkout-api over 5% for 5m"
    room = h.room(1)
    assert "U2" in room.members  # the service's people; there is no declaring person to invite
    [announcement] = h.emu.channels[h.announce].messages
    assert "declared by Alertmanager" in announcement.text
    assert "<@source" not in announcement.text and "<@channel>" not in announcement.text
    assert "&lt;@\u2060channel&gt;" in announcement.text  # the summary is shown as text, never a ping
    assert any("Declared by Alertmanager" in m.text for m in room.messages)  # the pinned summary
    kinds = h.timeline_kinds(1)
    assert kinds[:2] == ["declared", "alerts_firing"]
    [firing] = [e for e in h.timeline(1) if e.kind == "alerts_firing"]
    assert "CheckoutErrors" in firing.text and firing.data["new"] == [
        'CheckoutErrors{instance="checkout-1:8080"}'
    ]


def test_repeats_add_nothing_new_alerts_and_resolutions_are_recorded_and_never_resolve(h: Harness) -> None:
    assert post(h, "alertmanager", payload("alertmanager_firing")) == 202
    h.settle()
    before = h.timeline_kinds(1)
    assert post(h, "alertmanager", payload("alertmanager_firing")) == 200  # repeat_interval or a retry
    assert post(h, "alertmanager", payload("alertmanager_firing")) == 200
    h.settle()
    assert h.timeline_kinds(1) == before and incident_count(h) == 1

    assert post(h, "alertmanager", payload("alertmanager_more_firing")) == 200
    assert post(h, "alertmanager", payload("alertmanager_more_firing")) == 200
    h.settle()
    added = [e for e in h.timeline(1) if e.kind == "alerts_firing"][1:]
    assert [e.data["new"] for e in added] == [['CheckoutErrors{instance="checkout-2:8080"}']]

    assert post(h, "alertmanager", payload("alertmanager_resolved")) == 200
    assert post(h, "alertmanager", payload("alertmanager_resolved")) == 200
    h.settle()
    [resolved] = [e for e in h.timeline(1) if e.kind == "alerts_resolved"]
    assert len(resolved.data["resolved"]) == 2 and "stays open" in resolved.text
    assert h.incident(1).status == "investigating" and incident_count(h) == 1


def test_after_the_incident_is_resolved_the_group_firing_again_declares_a_new_one(h: Harness) -> None:
    assert post(h, "alertmanager", payload("alertmanager_firing")) == 202
    h.settle()
    room = h.incident(1).channel_id
    h.command("resolve Rolled back", channel=room)
    assert h.incident(1).status == "resolved"
    [draft] = shared_files(h, str(room))
    assert "by Alertmanager" in draft.content.decode() and "source:" not in draft.content.decode()
    assert post(h, "alertmanager", payload("alertmanager_resolved")) == 200  # nothing open: ignored
    assert post(h, "alertmanager", payload("alertmanager_firing")) == 202
    h.settle()
    assert incident_count(h) == 2 and h.incident(2).channel_id is not None
    assert "alerts_firing" not in h.timeline_kinds(1)[2:]


def test_a_grafana_group_declares_with_the_alertname_as_title(h: Harness) -> None:
    assert post(h, "grafana", payload("grafana_firing")) == 202
    h.settle()
    incident = h.incident(1)
    assert (incident.title, incident.severity, incident.declared_by) == (
        "High memory usage",
        "sev3",
        "source:Grafana",
    )
    assert "declared by Grafana" in h.emu.channels[h.announce].messages[0].text
    # The same group key from the other source is another group.
    assert post(h, "alertmanager", payload("alertmanager_firing")) == 202
    h.settle()
    assert incident_count(h) == 2


def test_an_unknown_service_label_is_noted_and_ignored(h: Harness) -> None:
    body = json.loads(payload("alertmanager_firing"))
    body["commonLabels"]["service"] = "billing"
    body["alerts"][0]["labels"]["service"] = "billing"
    assert post(h, "alertmanager", json.dumps(body).encode()) == 202
    h.settle()
    assert h.incident(1).services == []
    [note] = [e for e in h.timeline(1) if e.kind == "alert_note"]
    assert "'billing' is not a configured service" in note.text


def test_unauthenticated_or_malformed_deliveries_are_refused_and_change_nothing(h: Harness) -> None:
    good = payload("alertmanager_firing")
    assert post(h, "alertmanager", good, token=None) == 401
    assert post(h, "alertmanager", good, token="wrong-token-0123456789") == 401
    assert post(h, "grafana", good, token=TOKEN, scheme="Basic") == 401
    assert post(h, "alertmanager", b"not json") == 400
    assert post(h, "alertmanager", b"[1, 2]") == 400
    assert post(h, "alertmanager", json.dumps({"status": "firing", "alerts": []}).encode()) == 400
    wrong = json.loads(good)
    wrong["alerts"][0]["labels"] = {"alertname": 7}
    assert post(h, "alertmanager", json.dumps(wrong).encode()) == 400
    wrong = json.loads(good)
    wrong["version"] = "3"
    assert post(h, "alertmanager", json.dumps(wrong).encode()) == 400
    assert oversized(h, "alertmanager") == 413
    h.settle()
    assert incident_count(h) == 0 and h.emu.calls_to("conversations.create") == []


def test_the_routes_are_not_served_without_a_token(sqlite_url: str) -> None:
    gen = start_harness(sqlite_url, CONFIG)
    h = next(gen)
    try:
        assert post(h, "alertmanager", payload("alertmanager_firing")) == 404
        assert post(h, "grafana", payload("grafana_firing")) == 404
        assert incident_count(h) == 0
    finally:
        next(gen, None)


def test_the_declare_rate_limit_answers_429_and_records_nothing(sqlite_url: str) -> None:
    config = CONFIG.model_copy(update={"declare_rate_limit": "1/1h"})
    gen = start_harness(sqlite_url, config, webhook_token=TOKEN)
    h = next(gen)
    try:
        assert post(h, "alertmanager", payload("alertmanager_firing")) == 202
        other = json.loads(payload("alertmanager_firing"))
        other["groupKey"] = '{}:{alertname="DiskFull"}'
        assert post(h, "alertmanager", json.dumps(other).encode()) == 429
        assert post(h, "alertmanager", payload("alertmanager_more_firing")) == 200  # updates are not limited
        h.settle()
        assert incident_count(h) == 1
    finally:
        next(gen, None)


def test_concurrent_deliveries_of_one_group_declare_once(any_db: Harness) -> None:
    h = any_db
    body = payload("alertmanager_firing")
    statuses: list[int] = []
    start = threading.Barrier(8)

    def deliver() -> None:
        start.wait()
        statuses.append(post(h, "alertmanager", body))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    h.settle()
    assert sorted(statuses) == [200] * 7 + [202]
    assert incident_count(h) == 1
    assert len(h.emu.calls_to("conversations.create")) == 1
    assert h.timeline_kinds(1).count("alerts_firing") == 1


def test_an_alert_declared_incident_nobody_commands_is_nudged_in_the_room_not_at_the_alerter(
    sqlite_url: str,
) -> None:
    clock = FakeClock()
    for h in start_harness(sqlite_url, CONFIG, clock=clock, webhook_token=TOKEN):
        assert post(h, "alertmanager", payload("alertmanager_firing")) == 202
        h.settle()
        room = h.room(1)
        clock.advance(hours=2)  # past sev1's update cadence, nobody in command, nobody updated
        h.bot.runtime.tick()
        h.settle()
        texts = [m.text for m in room.messages if (m.metadata or {}).get("event_type") == REMINDER]
        assert texts, "no update reminder was posted"
        assert all(t.startswith(":alarm_clock: Nobody has taken command yet: ") for t in texts)
        assert all("/incident assign commander @you" in t and "Alertmanager" not in t for t in texts)
