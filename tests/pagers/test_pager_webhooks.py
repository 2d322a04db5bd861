"""/webhooks/pagerduty and /webhooks/opsgenie: only authentic acknowledgements reach the callback."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.ops.settings import Settings
from bot.webhooks import WebhookRequest
from bot.webhooks.opsgenie import OpsgenieWebhook
from bot.webhooks.pagerduty import PagerDutyWebhook
from bot.webhooks.routes import pager_webhooks

from .conftest import OG_TOKEN, PD_SECRET

PAYLOADS = Path(__file__).parent / "payloads"


class Recorder:
    """The on_acknowledged callback, recording calls and answering whether a page was waiting."""

    def __init__(self, waiting: bool = True) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.waiting = waiting

    def __call__(self, service: str, dedup_key: str, who: str) -> bool:
        self.calls.append((service, dedup_key, who))
        return self.waiting


def payload(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    return loaded


def sign(body: bytes, secret: str = PD_SECRET) -> str:
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def pd_request(body: bytes, signature: str | None = None, **headers: str) -> WebhookRequest:
    sig = sign(body) if signature is None else signature
    return WebhookRequest(body, {"x-pagerduty-signature": sig, "content-type": "application/json", **headers})


def pd_body(**changes: Any) -> bytes:
    event = payload("pagerduty_acknowledged.json")
    for path, value in changes.items():
        target = event["event"]
        *parents, last = path.split("__")
        for part in parents:
            target = target[part]
        target[last] = value
    return json.dumps(event).encode()


# -- PagerDuty -----------------------------------------------------------------------------------------


def test_a_signed_acknowledgement_reaches_the_callback_with_the_key_and_who() -> None:
    recorder = Recorder()
    answer = PagerDutyWebhook(PD_SECRET, recorder)(pd_request(pd_body()))
    assert (answer.status, answer.body) == (202, "acknowledged")
    assert recorder.calls == [("pagerduty", "incidentbot-7-primary-1", "Bob Oncall")]


def test_one_matching_signature_among_several_is_enough_as_during_a_secret_rotation() -> None:
    recorder = Recorder()
    body = pd_body()
    header = f"{sign(body, 'old-secret')}, {sign(body)}"
    assert PagerDutyWebhook(PD_SECRET, recorder)(pd_request(body, header)).status == 202
    assert len(recorder.calls) == 1


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "v1=" + "0" * 64,
        "v0=placeholder",
        "v2=" + "0" * 64,
    ],
)
def test_a_missing_or_wrong_signature_is_401_and_changes_nothing(signature: str) -> None:
    recorder = Recorder()
    body = pd_body()
    assert PagerDutyWebhook(PD_SECRET, recorder)(pd_request(body, signature)).status == 401
    assert PagerDutyWebhook(PD_SECRET, recorder)(pd_request(body, sign(body, "another secret"))).status == 401
    assert recorder.calls == []


def test_a_signature_over_another_body_is_401() -> None:
    recorder = Recorder()
    tampered = pd_body(data__incident_key="someone-elses-page")
    assert PagerDutyWebhook(PD_SECRET, recorder)(pd_request(tampered, sign(pd_body()))).status == 401
    assert recorder.calls == []


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"messages": []}',
        json.dumps({"event": {"event_type": 7}}).encode(),
        pd_body(data=None),
        pd_body(data="PGR0VU2"),
    ],
)
def test_signed_but_malformed_bodies_are_400_and_change_nothing(body: bytes) -> None:
    recorder = Recorder()
    answer = PagerDutyWebhook(PD_SECRET, recorder)(pd_request(body))
    assert (answer.status, answer.body) == (400, "Malformed request")
    assert recorder.calls == []


@pytest.mark.parametrize("event_type", ["incident.triggered", "incident.resolved", "service.updated"])
def test_other_event_types_are_accepted_and_ignored(event_type: str) -> None:
    recorder = Recorder()
    answer = PagerDutyWebhook(PD_SECRET, recorder)(pd_request(pd_body(event_type=event_type)))
    assert (answer.status, answer.body) == (202, "ignored")
    assert recorder.calls == []


def test_a_redelivered_webhook_is_answered_but_applied_once() -> None:
    recorder = Recorder()
    handler = PagerDutyWebhook(PD_SECRET, recorder)
    body = pd_body()
    first = handler(pd_request(body, **{"x-webhook-id": "w-1"}))
    again = handler(pd_request(body, **{"x-webhook-id": "w-1"}))
    assert (first.status, again.status, again.body) == (202, 202, "already handled")
    assert len(recorder.calls) == 1
    handler(pd_request(body, **{"x-webhook-id": "w-2"}))
    assert len(recorder.calls) == 2


def test_a_failed_attempt_is_not_remembered_so_the_redelivery_is_applied() -> None:
    calls: list[str] = []

    def flaky(service: str, dedup_key: str, who: str) -> bool:
        del service, who
        calls.append(dedup_key)
        if len(calls) == 1:
            raise RuntimeError("database down")
        return True

    handler = PagerDutyWebhook(PD_SECRET, flaky)
    request = pd_request(pd_body(), **{"x-webhook-id": "w-1"})
    with pytest.raises(RuntimeError):
        handler(request)  # the server answers 500 and PagerDuty redelivers
    assert handler(request).body == "acknowledged"
    assert len(calls) == 2


@pytest.mark.parametrize("key", ["", None, 42, "k" * 513])
def test_an_incident_without_a_key_of_ours_is_ignored_with_2xx(key: object) -> None:
    recorder = Recorder()
    answer = PagerDutyWebhook(PD_SECRET, recorder)(pd_request(pd_body(data__incident_key=key)))
    assert (answer.status, answer.body) == (202, "ignored")
    assert recorder.calls == []


def test_an_acknowledgement_nobody_was_waiting_for_is_still_2xx() -> None:
    answer = PagerDutyWebhook(PD_SECRET, Recorder(waiting=False))(pd_request(pd_body()))
    assert (answer.status, answer.body) == (202, "no page waiting")


def test_who_is_cleaned_and_defaults_when_pagerduty_names_no_agent() -> None:
    recorder = Recorder()
    handler = PagerDutyWebhook(PD_SECRET, recorder)
    handler(pd_request(pd_body(agent=None)))
    handler(pd_request(pd_body(agent__summary="Eve\u202e\n" + "x" * 200)))
    assert recorder.calls[0][2] == "someone in PagerDuty"
    assert recorder.calls[1][2] == "Eve" + "x" * 77


# -- Opsgenie ------------------------------------------------------------------------------------------


def og_request(body: dict[str, Any] | bytes, token: str | None = OG_TOKEN) -> WebhookRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": "application/json"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    return WebhookRequest(raw, headers)


def test_an_opsgenie_acknowledgement_with_the_token_reaches_the_callback() -> None:
    recorder = Recorder()
    answer = OpsgenieWebhook(OG_TOKEN, recorder)(og_request(payload("opsgenie_acknowledge.json")))
    assert (answer.status, answer.body) == (202, "acknowledged")
    assert recorder.calls == [("opsgenie", "incidentbot-7-primary-1", "carol@example.com")]


@pytest.mark.parametrize("token", [None, "", "wrong", OG_TOKEN + "x", OG_TOKEN[:-1]])
def test_a_missing_or_wrong_token_is_401_and_changes_nothing(token: str | None) -> None:
    recorder = Recorder()
    assert (
        OpsgenieWebhook(OG_TOKEN, recorder)(og_request(payload("opsgenie_acknowledge.json"), token)).status
        == 401
    )
    assert recorder.calls == []


def test_the_token_must_come_as_a_bearer_authorization() -> None:
    recorder = Recorder()
    raw = json.dumps(payload("opsgenie_acknowledge.json")).encode()
    request = WebhookRequest(raw, {"authorization": OG_TOKEN})
    assert OpsgenieWebhook(OG_TOKEN, recorder)(request).status == 401


def without_alias() -> dict[str, Any]:
    body = payload("opsgenie_acknowledge.json")
    del body["alert"]["alias"]
    return body


@pytest.mark.parametrize(
    "body",
    [
        b"nope",
        b"[1]",
        {"alert": {}},
        {"action": 3},
        {"action": "Acknowledge"},
        {"action": "Acknowledge", "alert": []},
    ],
)
def test_opsgenie_malformed_bodies_are_400(body: dict[str, Any] | bytes) -> None:
    recorder = Recorder()
    assert OpsgenieWebhook(OG_TOKEN, recorder)(og_request(body)).status == 400
    assert OpsgenieWebhook(OG_TOKEN, recorder)(og_request(without_alias())).status == 400
    assert recorder.calls == []


@pytest.mark.parametrize("action", ["Create", "UnAcknowledge", "Close", "AddNote"])
def test_other_opsgenie_actions_are_accepted_and_ignored(action: str) -> None:
    recorder = Recorder()
    body = copy.deepcopy(payload("opsgenie_acknowledge.json"))
    body["action"] = action
    assert OpsgenieWebhook(OG_TOKEN, recorder)(og_request(body)).body == "ignored"
    assert recorder.calls == []


# -- routes --------------------------------------------------------------------------------------------


def test_each_route_is_served_only_when_its_secret_or_token_is_set() -> None:
    recorder = Recorder()
    assert pager_webhooks(Settings(), recorder) == {}
    blank = Settings(incidentbot_pagerduty_webhook_secret=SecretStr("  "))
    assert pager_webhooks(blank, recorder) == {}
    only_pd = Settings(incidentbot_pagerduty_webhook_secret=SecretStr(PD_SECRET))
    assert set(pager_webhooks(only_pd, recorder)) == {"pagerduty"}
    both = Settings(
        incidentbot_pagerduty_webhook_secret=SecretStr(PD_SECRET),
        incidentbot_opsgenie_webhook_token=SecretStr(OG_TOKEN),
    )
    assert set(pager_webhooks(both, recorder)) == {"pagerduty", "opsgenie"}


def test_secrets_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INCIDENTBOT_PAGERDUTY_WEBHOOK_SECRET", PD_SECRET)
    monkeypatch.setenv("INCIDENTBOT_OPSGENIE_WEBHOOK_TOKEN", OG_TOKEN)
    settings = Settings()
    assert PD_SECRET not in repr(settings) and OG_TOKEN not in repr(settings)
    assert set(pager_webhooks(settings, Recorder())) == {"pagerduty", "opsgenie"}
