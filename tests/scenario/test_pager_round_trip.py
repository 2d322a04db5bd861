"""A page through the real PagerDuty and Opsgenie adapters, acknowledged in the pager: its signed webhook
reaches the bot over HTTP, the escalation stops, the room hears who, and resolving closes the alert."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from bot.emulator.opsgenie import OpsgenieEmulator
from bot.emulator.pagerduty import PagerDutyEmulator
from bot.ops.config import config_from_mapping
from tests.scenario.conftest import FakeClock, Harness, start_harness

SECRET = "pd-signing-secret"
TOKEN = "og-shared-token-of-thirty-two-chars"
CONFIG = config_from_mapping(
    {
        "escalation_policies": {
            "payments": {
                "tiers": [
                    {"notify": ["U2", "pagerduty:payments"], "ack_within": "5m"},
                    {"notify": ["U3", "opsgenie:db"], "ack_within": "5m"},
                ]
            }
        },
    }
)


@pytest.fixture
def pagers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[PagerDutyEmulator, OpsgenieEmulator]]:
    with (
        PagerDutyEmulator(webhook_secrets=[SECRET]) as pagerduty,
        OpsgenieEmulator(webhook_headers={"Authorization": f"Bearer {TOKEN}"}) as opsgenie,
    ):
        monkeypatch.setenv("INCIDENTBOT_PAGERDUTY_KEY_PAYMENTS", pagerduty.add_routing_key())
        monkeypatch.setenv("INCIDENTBOT_OPSGENIE_KEY_DB", opsgenie.add_api_key())
        yield pagerduty, opsgenie


@pytest.fixture
def paged(
    sqlite_url: str, pagers: tuple[PagerDutyEmulator, OpsgenieEmulator]
) -> Iterator[tuple[Harness, FakeClock]]:
    pagerduty, opsgenie = pagers
    clock = FakeClock()
    yield from (
        (h, clock)
        for h in start_harness(
            sqlite_url,
            CONFIG,
            clock,
            incidentbot_pagerduty_url=pagerduty.base_url,
            incidentbot_opsgenie_url=opsgenie.base_url,
            incidentbot_pagerduty_webhook_secret=SecretStr(SECRET),
            incidentbot_opsgenie_webhook_token=SecretStr(TOKEN),
        )
    )


def room_texts(h: Harness, room: str) -> list[str]:
    return [m.text for m in h.emu.channels[room].messages]


def test_acknowledged_in_pagerduty_stops_the_escalation_and_resolving_closes_the_alert(
    paged: tuple[Harness, FakeClock], pagers: tuple[PagerDutyEmulator, OpsgenieEmulator]
) -> None:
    h, clock = paged
    pagerduty, opsgenie = pagers
    h.command("declare sev2 Checkout is timing out")
    room = str(h.room(1).id)
    h.command("page payments", channel=room)
    [alert] = pagerduty.alerts
    assert (alert.dedup_key, alert.status) == ("incidentbot-inc-1-payments", "triggered")

    assert (
        pagerduty.acknowledge(
            alert.dedup_key, "Dana Scully", deliver_to=h.server.base_url + "/webhooks/pagerduty"
        )
        == 202
    )
    h.bot.runtime.tick()  # the acknowledgement's job is recorded for a worker: this process's tick runs it
    h.settle()
    assert any("Dana Scully" in t and "acknowledged the page of *payments*" in t for t in room_texts(h, room))
    assert h.timeline_kinds(1).count("page_acknowledged") == 1
    assert h.incident(1).acknowledged_at is not None

    clock.advance(minutes=10)
    h.bot.runtime.tick()
    h.settle()
    assert h.dms_to("U3") == [] and opsgenie.alerts == [], "tier 2 is never paged once acknowledged"
    again = pagerduty.acknowledge  # a redelivery of the same webhook changes nothing
    with pytest.raises(KeyError):
        again(alert.dedup_key, "Dana Scully", deliver_to=h.server.base_url + "/webhooks/pagerduty")

    h.command("assign commander <@U1|alice>", channel=room)
    h.command("resolve Rolled back", channel=room)
    h.bot.runtime.tick()
    h.settle()
    assert pagerduty.alert(alert.dedup_key).status == "resolved"


def test_a_wrongly_signed_acknowledgement_changes_nothing(
    paged: tuple[Harness, FakeClock], pagers: tuple[PagerDutyEmulator, OpsgenieEmulator]
) -> None:
    h, _clock = paged
    pagerduty, _opsgenie = pagers
    h.command("declare sev2 Checkout is timing out")
    room = str(h.room(1).id)
    h.command("page payments", channel=room)
    [alert] = pagerduty.alerts
    forged = PagerDutyEmulator(webhook_secrets=["not-the-secret"])
    status = forged.send_webhook(
        h.server.base_url + "/webhooks/pagerduty",
        pagerduty.webhook_body("incident.acknowledged", alert, "Mallory"),
    )
    assert status == 401
    h.bot.runtime.tick()
    h.settle()
    assert "page_acknowledged" not in h.timeline_kinds(1)


def test_tier_two_through_opsgenie_acknowledged_there(
    paged: tuple[Harness, FakeClock], pagers: tuple[PagerDutyEmulator, OpsgenieEmulator]
) -> None:
    h, clock = paged
    _pagerduty, opsgenie = pagers
    h.command("declare sev2 Checkout is timing out")
    room = str(h.room(1).id)
    h.command("page payments", channel=room)
    assert opsgenie.alerts == []
    clock.advance(minutes=5, seconds=1)
    h.bot.runtime.tick()
    h.settle()
    [alert] = opsgenie.alerts
    assert len(h.dms_to("U3")) == 1
    assert (
        opsgenie.acknowledge(alert.alias, "fox", deliver_to=h.server.base_url + "/webhooks/opsgenie") == 202
    )
    h.bot.runtime.tick()
    h.settle()
    assert any("fox" in t and "acknowledged the page of *payments*" in t for t in room_texts(h, room))
    clock.advance(minutes=10)
    h.bot.runtime.tick()
    h.settle()
    assert h.timeline_kinds(1).count("page_escalated") == 1, "no round after the acknowledgement"
