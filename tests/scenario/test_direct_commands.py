"""Slash commands over HTTP skip Bolt's dispatch: same answers as through Bolt, only once signed."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import Ack, Respond
from slack_bolt.request import BoltRequest

from bot.emulator.signing import sign_request
from bot.listeners.direct import DirectCommands
from tests.scenario.conftest import Harness

FORM = "application/x-www-form-urlencoded"


def _signed_command(harness: Harness, text: str, command: str = "/incident") -> tuple[bytes, dict[str, str]]:
    form = harness.emu._command(text, "U1", harness.general, command, None)
    body = urlencode(form).encode()
    return body, {"Content-Type": FORM, **sign_request(harness.emu.signing_secret, body)}


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str, str]:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - local URL
            return resp.status, resp.read().decode(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), exc.headers.get("Content-Type", "")


def _through_bolt(harness: Harness, body: bytes, headers: dict[str, str]) -> tuple[int, str, str]:
    response = harness.bot.bolt.dispatch(BoltRequest(body=body.decode(), headers=headers))
    content_type = response.headers.get("content-type", [""])[0]
    return response.status, response.body, content_type


@pytest.mark.parametrize("text", ["help", "declare", "frobnicate the database", "status"])
def test_a_command_gets_the_answer_bolt_would_give_without_going_through_bolt(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    body, headers = _signed_command(harness, text)
    expected = _through_bolt(harness, body, headers)
    assert expected[0] == 200

    dispatched: list[Any] = []
    monkeypatch.setattr(harness.bot.bolt, "dispatch", dispatched.append)
    body, headers = _signed_command(harness, text)  # a fresh response_url and trigger
    assert _post(harness.url, body, headers) == expected
    assert dispatched == []


def test_a_declare_answered_directly_is_recorded_before_its_ack_and_gets_its_room(harness: Harness) -> None:
    result = harness.command("declare sev2 Checkout is down")
    assert result.status == 200 and "Declared *INC-1*" in result.json()["text"]
    assert harness.incident(1).title == "Checkout is down"
    assert "War room: <#" in harness.replies()[-1]


def test_an_unsigned_command_is_refused_and_never_reaches_the_listener(harness: Harness) -> None:
    body, headers = _signed_command(harness, "declare sev2 Forged")
    headers["X-Slack-Signature"] = "v0=" + "0" * 64
    status, _, _ = _post(harness.url, body, headers)
    assert status == 401
    harness.settle()
    with harness.bot.runtime.uow() as tx:
        assert tx.incidents.get(1) is None
    assert harness.emu.responses == []


def test_other_commands_and_interactions_still_go_to_bolt(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[BoltRequest] = []
    real = harness.bot.bolt.dispatch

    def spy(request: BoltRequest) -> Any:
        seen.append(request)
        return real(request)

    monkeypatch.setattr(harness.bot.bolt, "dispatch", spy)
    body, headers = _signed_command(harness, "anything", command="/other")
    status, _, _ = _post(harness.url, body, headers)
    assert status == 404  # Bolt: no listener for it
    assert [r.body.get("command") for r in seen] == ["/other"]


def test_a_listener_that_raises_gets_a_500_as_under_bolt(harness: Harness, caplog: Any) -> None:
    def broken(_ack: Ack, _command: dict[str, Any], _respond: Respond, _context: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    direct = DirectCommands({"/incident": broken}, harness.bot.runtime, harness.bot.bolt.client)
    body, _ = _signed_command(harness, "declare sev2 Secret title")
    response = direct.answer(body.decode(), FORM)
    assert response is not None and response.status == 500 and response.body == ""
    assert "RuntimeError" in caplog.text and "Secret" not in caplog.text


def test_bodies_bolt_reads_as_interactions_are_not_taken_for_commands(harness: Harness) -> None:
    direct = harness.bot.wsgi.direct
    assert direct is not None
    assert direct.answer("payload=%7B%7D&command=%2Fincident", FORM) is None
    assert direct.answer('{"command": "/incident"}', "application/json") is None
    assert direct.answer("command=%2Fincident", "application/json") is None


def test_a_command_that_mentions_payload_is_still_a_command(harness: Harness) -> None:
    body, headers = _signed_command(harness, "declare sev2 Webhook payload rejected")
    # Bolt alone looks for the word anywhere in the body, finds no `payload` field and no listener: 404.
    assert _through_bolt(harness, body, headers)[0] == 404
    body, headers = _signed_command(harness, "declare sev2 Webhook payload rejected")
    status, answer, _ = _post(harness.url, body, headers)
    assert status == 200 and "Declared *INC-1*" in answer
    harness.settle()
    assert harness.incident(1).title == "Webhook payload rejected"
