"""Fixtures: started PagerDuty and Opsgenie emulators, keys in a private environment, the real adapters."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from bot.emulator.opsgenie import OpsgenieEmulator
from bot.emulator.pagerduty import PagerDutyEmulator
from bot.ops.settings import Settings
from bot.pagers.router import Pagers

PD_SECRET = "pd-signing-secret"
OG_TOKEN = "og-shared-token"
PD_TARGET = "pagerduty:payments-oncall"
OG_TARGET = "opsgenie:db"
PD_KEY_VAR = "INCIDENTBOT_PAGERDUTY_KEY_PAYMENTS_ONCALL"
OG_KEY_VAR = "INCIDENTBOT_OPSGENIE_KEY_DB"


@pytest.fixture
def pagerduty() -> Iterator[PagerDutyEmulator]:
    """A started PagerDuty emulator whose webhooks are signed with PD_SECRET."""
    with PagerDutyEmulator(webhook_secrets=[PD_SECRET]) as emu:
        yield emu


@pytest.fixture
def opsgenie() -> Iterator[OpsgenieEmulator]:
    """A started Opsgenie emulator whose webhook integration sends the bot's token."""
    with OpsgenieEmulator(webhook_headers={"Authorization": f"Bearer {OG_TOKEN}"}) as emu:
        yield emu


@pytest.fixture
def environ(pagerduty: PagerDutyEmulator, opsgenie: OpsgenieEmulator) -> dict[str, str]:
    """The process environment the adapters read keys from: one integration at each service."""
    return {PD_KEY_VAR: pagerduty.add_routing_key(), OG_KEY_VAR: opsgenie.add_api_key()}


def pager_settings(pagerduty_url: str, opsgenie_url: str, timeout: float = 2.0) -> Settings:
    return Settings(
        incidentbot_pagerduty_url=pagerduty_url,
        incidentbot_opsgenie_url=opsgenie_url,
        incidentbot_pager_timeout_seconds=timeout,
    )


@pytest.fixture
def pagers(pagerduty: PagerDutyEmulator, opsgenie: OpsgenieEmulator, environ: dict[str, str]) -> Pagers:
    """The real adapters pointed at the emulators (a short timeout, so latency tests stay fast)."""
    return Pagers.from_settings(pager_settings(pagerduty.base_url, opsgenie.base_url, 0.5), environ)


def post(url: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """POST raw JSON (or bytes) and return (status, JSON answer), errors included."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read() or b"{}")


def get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read() or b"{}")
