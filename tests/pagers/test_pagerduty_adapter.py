"""The PagerDuty adapter against the emulator: every verb, and each way PagerDuty can fail or refuse."""

from __future__ import annotations

import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from bot.emulator.pagerduty import PagerDutyEmulator
from bot.pagers.http import PagerRateLimited
from bot.pagers.router import Pagers
from commands.pager import PagerError, PagerRefused

from .conftest import PD_KEY_VAR, PD_TARGET, pager_settings


def test_trigger_acknowledge_resolve_walk_one_alert_through_its_states(
    pagers: Pagers, pagerduty: PagerDutyEmulator, environ: dict[str, str]
) -> None:
    pagers.trigger(PD_TARGET, "inc-7-primary", "INC-7 Checkout down", priority=1, details={"room": "#inc-7"})
    alert = pagerduty.alert("inc-7-primary")
    assert (alert.status, alert.summary, alert.severity) == ("triggered", "INC-7 Checkout down", "critical")
    assert alert.custom_details == {"room": "#inc-7"}
    assert alert.routing_key == environ[PD_KEY_VAR]

    pagers.acknowledge(PD_TARGET, "inc-7-primary")
    assert pagerduty.alert("inc-7-primary").status == "acknowledged"
    pagers.resolve(PD_TARGET, "inc-7-primary")
    assert pagerduty.alert("inc-7-primary").status == "resolved"
    assert [c.body["event_action"] for c in pagerduty.calls_to("enqueue")] == [
        "trigger",
        "acknowledge",
        "resolve",
    ]
    assert all(c.status == 202 for c in pagerduty.calls)


def test_a_retried_trigger_adds_to_the_open_alert_and_priorities_map_to_severities(
    pagers: Pagers, pagerduty: PagerDutyEmulator
) -> None:
    pagers.trigger(PD_TARGET, "k", "S", priority=3, details={})
    pagers.trigger(PD_TARGET, "k", "S", priority=3, details={})
    assert len(pagerduty.alerts) == 1 and pagerduty.alert("k").triggers == 2
    for priority, severity in {2: "error", 3: "warning", 4: "info", 5: "info"}.items():
        pagers.trigger(PD_TARGET, f"p{priority}", "S", priority=priority, details={})
        assert pagerduty.alert(f"p{priority}").severity == severity


def test_a_long_summary_is_clipped_to_pagerdutys_limit_rather_than_refused(
    pagers: Pagers, pagerduty: PagerDutyEmulator
) -> None:
    pagers.trigger(PD_TARGET, "long", "x" * 5000, priority=2, details={})
    assert len(pagerduty.alert("long").summary) == 1024


def test_429_is_retried_after_what_pagerduty_asked(pagers: Pagers, pagerduty: PagerDutyEmulator) -> None:
    pagerduty.rate_limit("enqueue", retry_after=7)
    with pytest.raises(PagerRateLimited) as caught:
        pagers.trigger(PD_TARGET, "k", "S", priority=1, details={})
    assert isinstance(caught.value, PagerError) and caught.value.retry_after == 7
    pagers.trigger(PD_TARGET, "k", "S", priority=1, details={})  # the retry lands
    assert pagerduty.alert("k").status == "triggered"


def test_5xx_is_retried(pagers: Pagers, pagerduty: PagerDutyEmulator) -> None:
    pagerduty.fail("enqueue", status=503)
    with pytest.raises(PagerError, match="HTTP 503"):
        pagers.acknowledge(PD_TARGET, "k")


def test_a_slow_pagerduty_times_out_as_a_retry(pagers: Pagers, pagerduty: PagerDutyEmulator) -> None:
    pagerduty.set_latency(2.0)
    started = time.monotonic()
    with pytest.raises(PagerError, match="no answer within 0.5 s"):
        pagers.trigger(PD_TARGET, "k", "S", priority=1, details={})
    assert time.monotonic() - started < 1.5


def test_an_unreachable_pagerduty_is_a_retry(environ: dict[str, str], opsgenie_url: str = "http://x") -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    pagers = Pagers.from_settings(pager_settings(closed, opsgenie_url), environ)
    with pytest.raises(PagerError, match="could not reach"):
        pagers.trigger(PD_TARGET, "k", "S", priority=1, details={})


def test_a_key_pagerduty_does_not_know_is_refused_without_showing_it(
    pagerduty: PagerDutyEmulator, opsgenie_url: str = "http://x"
) -> None:
    wrong = "f" * 32
    pagers = Pagers.from_settings(pager_settings(pagerduty.base_url, opsgenie_url), {PD_KEY_VAR: wrong})
    with pytest.raises(PagerRefused) as caught:
        pagers.trigger(PD_TARGET, "k", "S", priority=1, details={})
    assert "HTTP 400" in caught.value.reason and PD_TARGET in caught.value.reason
    assert wrong not in caught.value.reason
    assert pagerduty.alerts == []


def test_a_missing_key_is_refused_naming_the_variable_and_nothing_is_sent(
    pagerduty: PagerDutyEmulator, opsgenie_url: str = "http://x"
) -> None:
    pagers = Pagers.from_settings(pager_settings(pagerduty.base_url, opsgenie_url), {})
    with pytest.raises(PagerRefused, match=PD_KEY_VAR):
        pagers.trigger(PD_TARGET, "k", "S", priority=1, details={})
    assert pagerduty.calls == []


def test_targets_that_name_no_pager_or_an_unusable_name_are_refused(pagers: Pagers) -> None:
    with pytest.raises(PagerRefused, match="not a pager target"):
        pagers.trigger("victorops:team", "k", "S", priority=1, details={})
    with pytest.raises(PagerRefused, match="not a pager target"):
        pagers.resolve("pagerduty:", "k")
    with pytest.raises(PagerRefused, match="unusable name"):
        pagers.acknowledge("pagerduty:a b", "k")


def test_a_key_set_after_start_is_used_without_a_restart(
    pagerduty: PagerDutyEmulator, opsgenie_url: str = "http://x"
) -> None:
    environ: dict[str, str] = {}
    pagers = Pagers.from_settings(pager_settings(pagerduty.base_url, opsgenie_url), environ)
    with pytest.raises(PagerRefused):
        pagers.trigger(PD_TARGET, "k", "S", priority=1, details={})
    environ[PD_KEY_VAR] = pagerduty.add_routing_key()
    pagers.trigger(PD_TARGET, "k", "S", priority=1, details={})
    assert pagerduty.alert("k").status == "triggered"


def test_failures_are_logged_without_the_key_or_the_alert(
    pagers: Pagers, pagerduty: PagerDutyEmulator, environ: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    pagerduty.fail("enqueue", status=500)
    with pytest.raises(PagerError):
        pagers.trigger(PD_TARGET, "secret-dedup", "Payroll leaked to mallory", priority=1, details={"a": "b"})
    assert "answered 500" in caplog.text
    for private in (environ[PD_KEY_VAR], "Payroll", "secret-dedup"):
        assert private not in caplog.text


def test_a_redirect_is_refused_rather_than_followed(
    pagerduty: PagerDutyEmulator, environ: dict[str, str]
) -> None:
    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - stdlib naming
            self.send_response(302)
            self.send_header("Location", f"{pagerduty.base_url}/v2/enqueue")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
            pass

    server = HTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    moved = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with pytest.raises(PagerRefused, match="HTTP 302"):
            Pagers.from_settings(pager_settings(moved, "http://x"), environ).resolve(PD_TARGET, "k")
    finally:
        thread.join(timeout=5)
        server.server_close()
    assert pagerduty.calls == []  # the key never went where the redirect pointed


def test_out_of_range_priorities_are_clamped(pagers: Pagers, pagerduty: PagerDutyEmulator) -> None:
    pagers.trigger(PD_TARGET, "low", "S", priority=9, details={})
    pagers.trigger(PD_TARGET, "high", "S", priority=0, details={})
    assert (pagerduty.alert("low").severity, pagerduty.alert("high").severity) == ("info", "critical")
