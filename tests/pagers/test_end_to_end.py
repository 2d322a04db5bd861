"""A page goes out through the real adapters, a responder acknowledges in the pager, and the bot hears it
over HTTP on /webhooks/<service>, as it would from PagerDuty or Opsgenie."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import cast

import pytest
from pydantic import SecretStr
from slack_bolt import App

from bot.app import build_runtime, close_runtime
from bot.emulator.opsgenie import OpsgenieEmulator
from bot.emulator.pagerduty import PagerDutyEmulator
from bot.ops.config import IncidentConfig
from bot.ops.local import LocalServer
from bot.ops.settings import Settings
from bot.pagers.router import Pagers
from bot.pipeline.runtime import Runtime
from bot.slack.http import IncidentBotWsgi
from bot.webhooks.routes import webhook_routes

from .conftest import OG_TARGET, OG_TOKEN, PD_SECRET, PD_TARGET
from .test_pager_webhooks import Recorder


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def bot_settings(**extra: object) -> Settings:
    return Settings(
        incidentbot_pagerduty_webhook_secret=SecretStr(PD_SECRET),
        incidentbot_opsgenie_webhook_token=SecretStr(OG_TOKEN),
        **extra,
    )


@pytest.fixture
def bot_url(recorder: Recorder) -> Iterator[str]:
    """The bot's HTTP front (the production WSGI app under waitress) with the pager webhooks wired."""
    routes = webhook_routes(bot_settings(), IncidentConfig(), cast(Runtime, None), on_acknowledged=recorder)
    bolt = cast(App, object())  # Slack's path is not used here
    wsgi = IncidentBotWsgi(bolt, healthy=lambda: True, signing_secret="unused", webhooks=routes)
    with LocalServer(wsgi) as server:
        yield server.base_url


def test_a_pagerduty_responder_acknowledges_and_the_bot_hears_it(
    pagers: Pagers, pagerduty: PagerDutyEmulator, bot_url: str, recorder: Recorder
) -> None:
    pagers.trigger(PD_TARGET, "incidentbot-7-primary-1", "INC-7 Checkout down", priority=1, details={})
    status = pagerduty.acknowledge("incidentbot-7-primary-1", "Bob Oncall", f"{bot_url}/webhooks/pagerduty")
    assert status == 202
    assert recorder.calls == [("pagerduty", "incidentbot-7-primary-1", "Bob Oncall")]
    alert = pagerduty.alert("incidentbot-7-primary-1")
    assert (alert.status, alert.acknowledged_by) == ("acknowledged", "Bob Oncall")


def test_an_opsgenie_responder_acknowledges_and_the_bot_hears_it(
    pagers: Pagers, opsgenie: OpsgenieEmulator, bot_url: str, recorder: Recorder
) -> None:
    pagers.trigger(OG_TARGET, "incidentbot-7-primary-1", "INC-7 DB down", priority=2, details={})
    status = opsgenie.acknowledge(
        "incidentbot-7-primary-1", "carol@example.com", f"{bot_url}/webhooks/opsgenie"
    )
    assert status == 202
    assert recorder.calls == [("opsgenie", "incidentbot-7-primary-1", "carol@example.com")]
    alert = opsgenie.alert("incidentbot-7-primary-1")
    assert (alert.status, alert.acknowledged_by) == ("acknowledged", "carol@example.com")


def test_a_webhook_signed_with_a_secret_the_bot_does_not_hold_is_refused_over_http(
    bot_url: str, recorder: Recorder
) -> None:
    with PagerDutyEmulator(webhook_secrets=["someone-elses-secret"]) as impostor:
        key = impostor.add_routing_key()
        Pagers.from_settings(
            Settings(incidentbot_pagerduty_url=impostor.base_url), {"INCIDENTBOT_PAGERDUTY_KEY_X": key}
        ).trigger("pagerduty:x", "k", "S", priority=1, details={})
        assert impostor.acknowledge("k", "Mallory", f"{bot_url}/webhooks/pagerduty") == 401
    with OpsgenieEmulator(webhook_headers={"Authorization": "Bearer guessed"}) as impostor_og:
        key = impostor_og.add_api_key()
        Pagers.from_settings(
            Settings(incidentbot_opsgenie_url=impostor_og.base_url), {"INCIDENTBOT_OPSGENIE_KEY_X": key}
        ).trigger("opsgenie:x", "k", "S", priority=1, details={})
        assert impostor_og.acknowledge("k", "Mallory", f"{bot_url}/webhooks/opsgenie") == 401
    assert recorder.calls == []


def test_without_a_secret_or_token_the_routes_are_not_served(recorder: Recorder) -> None:
    routes = webhook_routes(Settings(), IncidentConfig(), cast(Runtime, None), on_acknowledged=recorder)
    wsgi = IncidentBotWsgi(cast(App, object()), healthy=lambda: True, signing_secret="s", webhooks=routes)
    with LocalServer(wsgi) as server:
        request = urllib.request.Request(f"{server.base_url}/webhooks/pagerduty", data=b"{}", method="POST")
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=5)
        assert caught.value.code == 404
        caught.value.close()


def test_the_job_runner_pages_through_the_configured_pagers(tmp_path: Path) -> None:
    settings = bot_settings(
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        incidentbot_pagerduty_url="https://events.eu.pagerduty.com/",
        incidentbot_opsgenie_url="https://api.eu.opsgenie.com",
    )
    runtime, engine = build_runtime(settings, IncidentConfig(), lease=timedelta(seconds=5), workers=1)
    try:
        pager = runtime.runner.pager
        assert isinstance(pager, Pagers)
        assert pager.pagerduty.url == "https://events.eu.pagerduty.com/v2/enqueue"
        assert pager.opsgenie.url == "https://api.eu.opsgenie.com/v2/alerts"
    finally:
        close_runtime(runtime, engine, None)
