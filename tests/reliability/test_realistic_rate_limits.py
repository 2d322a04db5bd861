"""A whole incident under Slack's real rate limits: every post lands once, in order; acks stay fast."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.reliability.conftest import Rig

UPDATES = 8  # chat.postMessage allows about one a second per channel: this burst is well over it


def update_posts(rig: Rig, channel: str) -> list[str]:
    return [
        m.text
        for m in rig.emu.channels[channel].messages
        if (m.metadata or {}).get("event_type") == "incident_update"
    ]


def test_a_burst_of_updates_under_realistic_rate_limits_lands_once_in_order(
    make_rig: Callable[..., Rig],
) -> None:
    rig = make_rig(realistic_rate_limits=True)
    rig.command("declare sev1 Checkout is down")
    room = rig.room(1).id
    rig.command("assign commander <@U2|bob>", channel=room)
    slowest = 0.0
    for n in range(UPDATES):
        started = time.monotonic()
        ack = rig.command(f"update identified step {n} done", user="U2", channel=room, settle=False)
        slowest = max(slowest, time.monotonic() - started)
        assert ack.status == 200
    rig.tick_until(lambda: len(update_posts(rig, rig.announce)) == UPDATES, seconds=60)
    rig.command("resolve rolled back", user="U2", channel=room)
    rig.tick_until(lambda: rig.pending_jobs() == 0, seconds=30)

    assert rig.emu.rate_limited["chat.postMessage"] > 0, "the burst met Slack's limits"
    for channel in (room, rig.announce):
        posts = update_posts(rig, channel)
        steps = [int(text.split("step ")[1].split()[0]) for text in posts]
        assert steps == list(range(UPDATES)), f"each update once, in order: {steps}"
    assert slowest < 1.0, f"an acknowledgement took {slowest:.2f}s"
    assert rig.incident(1).status == "resolved"
