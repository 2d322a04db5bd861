"""The pager emulators refuse what the real APIs refuse, so a bot that passes here passes there."""

from __future__ import annotations

from typing import Any

import pytest

from bot.emulator.opsgenie import OpsgenieEmulator
from bot.emulator.pagerduty import PagerDutyEmulator

from .conftest import get, post

GOOD_PAYLOAD = {"summary": "S", "source": "incidentbot", "severity": "critical"}


def enqueue(pd: PagerDutyEmulator, event: Any) -> tuple[int, dict[str, Any]]:
    return post(f"{pd.base_url}/v2/enqueue", event)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"routing_key": None}, "'routing_key' is missing"),
        ({"routing_key": "short"}, "should be 32 characters"),
        ({"event_action": "snooze"}, "'event_action' is invalid"),
        ({"dedup_key": "k" * 256}, "at most 255"),
        ({"payload": None}, "'payload' is missing"),
        ({"payload": {**GOOD_PAYLOAD, "summary": "s" * 1025}}, "at most 1024"),
        ({"payload": {**GOOD_PAYLOAD, "severity": "high"}}, "'payload.severity' is invalid"),
        ({"payload": {**GOOD_PAYLOAD, "source": ""}}, "'payload.source' is missing"),
        ({"payload": {**GOOD_PAYLOAD, "custom_details": "x"}}, "must be an object"),
    ],
)
def test_pagerduty_refuses_invalid_trigger_events_with_400(
    pagerduty: PagerDutyEmulator, change: dict[str, Any], error: str
) -> None:
    event = {"routing_key": pagerduty.add_routing_key(), "event_action": "trigger", "payload": GOOD_PAYLOAD}
    status, answer = enqueue(pagerduty, {**event, **change})
    assert status == 400 and answer["status"] == "invalid event"
    assert any(error in e for e in answer["errors"]), answer
    assert pagerduty.alerts == []


def test_pagerduty_refuses_bad_json_unknown_keys_and_keyless_acknowledgements(
    pagerduty: PagerDutyEmulator,
) -> None:
    assert post(f"{pagerduty.base_url}/v2/enqueue", b"{not json")[0] == 400
    status, answer = enqueue(
        pagerduty, {"routing_key": "a" * 32, "event_action": "trigger", "payload": GOOD_PAYLOAD}
    )
    assert (status, answer["errors"]) == (400, ["Invalid routing key"])
    status, answer = enqueue(
        pagerduty, {"routing_key": pagerduty.add_routing_key(), "event_action": "resolve"}
    )
    assert status == 400 and "required for acknowledge and resolve" in answer["errors"][0]
    assert post(f"{pagerduty.base_url}/v2/other", {})[0] == 404


def test_pagerduty_generates_a_dedup_key_and_drops_events_for_closed_or_foreign_alerts(
    pagerduty: PagerDutyEmulator,
) -> None:
    key, other = pagerduty.add_routing_key(), pagerduty.add_routing_key()
    status, answer = enqueue(
        pagerduty, {"routing_key": key, "event_action": "trigger", "payload": GOOD_PAYLOAD}
    )
    assert (status, answer["status"], answer["message"]) == (202, "success", "Event processed")
    generated = answer["dedup_key"]
    # Another integration's acknowledge is accepted and dropped, as PagerDuty documents.
    assert (
        enqueue(pagerduty, {"routing_key": other, "event_action": "acknowledge", "dedup_key": generated})[0]
        == 202
    )
    assert pagerduty.alert(generated).status == "triggered"
    enqueue(pagerduty, {"routing_key": key, "event_action": "resolve", "dedup_key": generated})
    assert (
        enqueue(pagerduty, {"routing_key": key, "event_action": "acknowledge", "dedup_key": generated})[0]
        == 202
    )
    assert pagerduty.alert(generated).status == "resolved"
    # After it is resolved, the same dedup key opens a new alert.
    enqueue(
        pagerduty,
        {"routing_key": key, "event_action": "trigger", "dedup_key": generated, "payload": GOOD_PAYLOAD},
    )
    assert [a.status for a in pagerduty.alerts] == ["resolved", "triggered"]


def test_pagerduty_keeps_an_acknowledged_alert_acknowledged_on_a_new_trigger(
    pagerduty: PagerDutyEmulator,
) -> None:
    key = pagerduty.add_routing_key()
    for action in ("trigger", "acknowledge", "trigger"):
        enqueue(
            pagerduty, {"routing_key": key, "event_action": action, "dedup_key": "d", "payload": GOOD_PAYLOAD}
        )
    assert (pagerduty.alert("d").status, pagerduty.alert("d").triggers) == ("acknowledged", 2)


def test_pagerduty_refuses_bodies_over_its_size_limit(pagerduty: PagerDutyEmulator) -> None:
    assert post(f"{pagerduty.base_url}/v2/enqueue", b" " * (512 * 1024 + 1))[0] == 400


def genie(key: str) -> dict[str, str]:
    return {"Authorization": f"GenieKey {key}"}


def test_opsgenie_needs_an_integration_key(opsgenie: OpsgenieEmulator) -> None:
    url = f"{opsgenie.base_url}/v2/alerts"
    assert post(url, {"message": "m"})[0] == 401
    status, answer = post(url, {"message": "m"}, genie("00000000-0000-4000-8000-000000000000"))
    assert (status, answer["message"]) == (401, "Could not authenticate")
    assert post(url, {"message": "m"}, {"Authorization": f"Bearer {opsgenie.add_api_key()}"})[0] == 401
    assert opsgenie.alerts == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "message"),
        ({"message": "m" * 131}, "message"),
        ({"message": "m", "alias": "a" * 513}, "alias"),
        ({"message": "m", "description": "d" * 15001}, "description"),
        ({"message": "m", "priority": "P0"}, "priority"),
        ({"message": "m", "details": {"a": 1}}, "details"),
        ({"message": "m", "tags": ["t" * 51]}, "tags"),
        ({"message": "m", "source": "s" * 101}, "source"),
    ],
)
def test_opsgenie_refuses_invalid_alerts_with_422(
    opsgenie: OpsgenieEmulator, body: dict[str, Any], field: str
) -> None:
    status, answer = post(f"{opsgenie.base_url}/v2/alerts", body, genie(opsgenie.add_api_key()))
    assert status == 422 and field in answer["errors"]
    assert opsgenie.alerts == []


def test_opsgenie_refuses_bad_json_and_unknown_identifier_types(opsgenie: OpsgenieEmulator) -> None:
    key = opsgenie.add_api_key()
    assert post(f"{opsgenie.base_url}/v2/alerts", b"[oops", genie(key))[0] == 400
    assert post(f"{opsgenie.base_url}/v2/alerts", b"[]", genie(key))[0] == 400
    status, answer = post(f"{opsgenie.base_url}/v2/alerts/a/close?identifierType=name", {}, genie(key))
    assert status == 422 and "identifierType" in answer["errors"]
    assert get(f"{opsgenie.base_url}/v2/alerts/requests/nope", genie(key))[0] == 404


def test_opsgenie_acts_by_id_tiny_id_and_alias_and_reopens_a_closed_alias(opsgenie: OpsgenieEmulator) -> None:
    key = opsgenie.add_api_key()
    base = f"{opsgenie.base_url}/v2/alerts"
    post(base, {"message": "m", "alias": "a"}, genie(key))
    alert = opsgenie.alert("a")
    assert post(f"{base}/{alert.tiny_id}/acknowledge?identifierType=tiny", {}, genie(key))[0] == 202
    assert alert.status == "acknowledged"
    assert post(f"{base}/{alert.id}/close", {}, genie(key))[0] == 202  # identifierType defaults to id
    assert alert.status == "resolved"
    post(base, {"message": "m", "alias": "a"}, genie(key))
    assert [a.status for a in opsgenie.alerts] == ["resolved", "triggered"]
    # No alias given: Opsgenie uses the message as the alias.
    post(base, {"message": "no alias"}, genie(key))
    assert opsgenie.alert("no alias").status == "triggered"


def test_faults_and_their_retry_after_are_served_then_cleared(
    pagerduty: PagerDutyEmulator, opsgenie: OpsgenieEmulator
) -> None:
    pagerduty.rate_limit(retry_after=4, times=2)
    key = pagerduty.add_routing_key()
    event = {"routing_key": key, "event_action": "trigger", "payload": GOOD_PAYLOAD}
    assert [enqueue(pagerduty, event)[0] for _ in range(3)] == [429, 429, 202]
    opsgenie.fail(status=502, times=None)
    assert post(f"{opsgenie.base_url}/v2/alerts", {"message": "m"}, genie(opsgenie.add_api_key()))[0] == 502
    opsgenie.clear_faults()
    assert post(f"{opsgenie.base_url}/v2/alerts", {"message": "m"}, genie(opsgenie.add_api_key()))[0] == 202
    assert [c.status for c in pagerduty.calls] == [429, 429, 202]


def test_a_responder_can_only_acknowledge_an_open_unacknowledged_alert(
    pagerduty: PagerDutyEmulator, opsgenie: OpsgenieEmulator
) -> None:
    with pytest.raises(KeyError):
        pagerduty.acknowledge("nothing", "Alice", "http://127.0.0.1:9/")
    with pytest.raises(KeyError):
        opsgenie.acknowledge("nothing", "Alice", "http://127.0.0.1:9/")
