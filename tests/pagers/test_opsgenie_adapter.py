"""The Opsgenie adapter against the emulator: create, acknowledge and close by alias, and every failure."""

from __future__ import annotations

import time

import pytest

from bot.emulator.opsgenie import OpsgenieEmulator
from bot.pagers.http import PagerRateLimited
from bot.pagers.router import Pagers
from commands.pager import PagerError, PagerRefused

from .conftest import OG_KEY_VAR, OG_TARGET, get, pager_settings


def test_create_acknowledge_close_walk_one_alert_through_its_states(
    pagers: Pagers, opsgenie: OpsgenieEmulator, environ: dict[str, str]
) -> None:
    pagers.trigger(OG_TARGET, "inc-7/primary tier", "INC-7 DB down", priority=2, details={"room": "#inc-7"})
    alert = opsgenie.alert("inc-7/primary tier")
    assert (alert.status, alert.message, alert.priority) == ("triggered", "INC-7 DB down", "P2")
    assert alert.details == {"room": "#inc-7"}
    [create] = opsgenie.calls_to("create")
    assert create.headers["authorization"] == f"GenieKey {environ[OG_KEY_VAR]}"

    pagers.acknowledge(OG_TARGET, "inc-7/primary tier")
    alert = opsgenie.alert("inc-7/primary tier")
    assert (alert.status, alert.acknowledged_by) == ("acknowledged", "incidentbot")
    pagers.resolve(OG_TARGET, "inc-7/primary tier")
    assert opsgenie.alert("inc-7/primary tier").status == "resolved"
    assert [c.status for c in opsgenie.calls] == [202, 202, 202]


def test_a_retried_create_is_folded_into_the_open_alert(pagers: Pagers, opsgenie: OpsgenieEmulator) -> None:
    pagers.trigger(OG_TARGET, "k", "S", priority=5, details={})
    pagers.trigger(OG_TARGET, "k", "S", priority=5, details={})
    assert len(opsgenie.alerts) == 1 and opsgenie.alert("k").count == 2
    assert opsgenie.alert("k").priority == "P5"


def test_a_long_summary_fits_the_message_and_goes_whole_into_the_description(
    pagers: Pagers, opsgenie: OpsgenieEmulator
) -> None:
    summary = "INC-9 " + "y" * 300
    pagers.trigger(OG_TARGET, "k", summary, priority=1, details={})
    alert = opsgenie.alert("k")
    assert len(alert.message) == 130 and alert.description == summary


def test_acknowledging_an_alias_opsgenie_no_longer_has_is_accepted_and_fails_only_in_its_log(
    pagers: Pagers, opsgenie: OpsgenieEmulator, environ: dict[str, str]
) -> None:
    # Opsgenie answers 202 and applies the request later: the adapter cannot know, as with the real API.
    pagers.acknowledge(OG_TARGET, "never-created")
    [call] = opsgenie.calls_to("acknowledge")
    assert call.status == 202 and call.answer["result"] == "Request will be processed"
    status, answer = get(
        f"{opsgenie.base_url}/v2/alerts/requests/{call.answer['requestId']}",
        {"Authorization": f"GenieKey {environ[OG_KEY_VAR]}"},
    )
    assert status == 200 and answer["data"]["isSuccess"] is False


def test_429_is_retried_after_what_opsgenie_asked(pagers: Pagers, opsgenie: OpsgenieEmulator) -> None:
    opsgenie.rate_limit("create", retry_after=3)
    with pytest.raises(PagerRateLimited) as caught:
        pagers.trigger(OG_TARGET, "k", "S", priority=1, details={})
    assert caught.value.retry_after == 3
    opsgenie.rate_limit("close", retry_after=None)
    with pytest.raises(PagerRateLimited) as without:
        pagers.resolve(OG_TARGET, "k")
    assert without.value.retry_after is None


def test_5xx_is_retried(pagers: Pagers, opsgenie: OpsgenieEmulator) -> None:
    opsgenie.fail("acknowledge", status=500)
    with pytest.raises(PagerError, match="HTTP 500"):
        pagers.acknowledge(OG_TARGET, "k")


def test_a_slow_opsgenie_times_out_as_a_retry(pagers: Pagers, opsgenie: OpsgenieEmulator) -> None:
    opsgenie.set_latency(2.0, "create")
    started = time.monotonic()
    with pytest.raises(PagerError, match="no answer"):
        pagers.trigger(OG_TARGET, "k", "S", priority=1, details={})
    assert time.monotonic() - started < 1.5


def test_a_key_opsgenie_rejects_is_refused_without_showing_it(opsgenie: OpsgenieEmulator) -> None:
    wrong = "00000000-0000-4000-8000-000000000000"
    pagers = Pagers.from_settings(pager_settings("http://x", opsgenie.base_url), {OG_KEY_VAR: wrong})
    with pytest.raises(PagerRefused) as caught:
        pagers.trigger(OG_TARGET, "k", "S", priority=1, details={})
    assert "HTTP 401" in caught.value.reason and "API key is invalid" in caught.value.reason
    assert wrong not in caught.value.reason
    assert opsgenie.alerts == []


@pytest.mark.parametrize(("status", "why"), [(403, "may not do this"), (402, "plan"), (422, "invalid")])
def test_other_refusals_say_why(pagers: Pagers, opsgenie: OpsgenieEmulator, status: int, why: str) -> None:
    opsgenie.fail("create", status=status)
    with pytest.raises(PagerRefused, match=why):
        pagers.trigger(OG_TARGET, "k", "S", priority=1, details={})


def test_a_missing_key_is_refused_naming_the_variable(opsgenie: OpsgenieEmulator) -> None:
    pagers = Pagers.from_settings(pager_settings("http://x", opsgenie.base_url), {})
    with pytest.raises(PagerRefused, match=OG_KEY_VAR):
        pagers.resolve(OG_TARGET, "k")
    assert opsgenie.calls == []
