"""A form opens inside Slack's 3 s trigger window even while a burst of rooms is being set up."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bot.ops.config import IncidentConfig
from tests.scenario.conftest import Harness


def test_declare_form_opens_while_twenty_rooms_are_provisioned_against_a_slow_slack(
    configured_harness: Any,
) -> None:
    # A load test, not one person: the per-person declare limit would refuse all but five.
    h: Harness = configured_harness(IncidentConfig(declare_rate_limit="1000/1m"))
    h.emu.set_latency(1.0)  # every Web API call, views.open included, takes a second
    with ThreadPoolExecutor(max_workers=20) as pool:
        acks = list(
            pool.map(
                lambda n: h.command(f"declare sev3 Service {n} is slow", user="U2", settle=False),
                range(20),
            )
        )
    assert all(a.status == 200 for a in acks)
    h.command("declare", user="U1", settle=False)  # no text: opens the declaration form
    h.settle()
    refused = [c.error for c in h.emu.calls_to("views.open") if not c.ok]
    assert refused == [], f"views.open was refused: {refused}"
    assert [v for v in h.emu.views.values() if v.get("user_id") == "U1"], "the form never opened"
    assert len(h.emu.calls_to("conversations.create")) == 20
