"""Slack failing part-way loses nothing and repeats nothing; slow Slack never delays the acknowledgement."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bot.ops.config import IncidentConfig
from tests.scenario.conftest import Harness


def _sweep_until(h: Harness, done: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        h.bot.runtime.tick()
        if callable(done) and done():
            return
        time.sleep(0.1)
    raise AssertionError("work did not complete in time")


def test_500_on_post_part_way_is_resumed_without_repeating_steps(any_db_harness: Harness) -> None:
    h = any_db_harness
    h.emu.fail("chat.postMessage", status=500, times=50)
    h.command("declare sev2 Payments failing")
    incident = h.incident(1)
    assert incident.channel_id is not None, "the room was created and recorded"
    assert incident.provisioned_at is None
    assert "is recorded" in h.replies()[-1]
    with h.bot.runtime.uow() as tx:
        (job,) = tx.jobs.pending_for(1)
        # post_checklist and invite_responders are done too: with nothing configured they do nothing.
        assert sorted(job.done_steps) == [
            "create_room",
            "invite_declarer",
            "invite_responders",
            "post_checklist",
            "set_topic",
        ]
        assert job.last_error and "chat.postMessage" in job.last_error

    h.emu.clear_faults()
    _sweep_until(h, lambda: h.incident(1).provisioned_at is not None)

    room = h.room(1)
    assert len(h.emu.calls_to("conversations.create")) == 1
    assert len(h.emu.calls_to("conversations.invite")) == 1
    assert len(room.messages) == 1 and room.messages[0].ts in room.pins
    assert len(h.emu.channels[h.announce].messages) == 1
    assert h.timeline_kinds(1).count("summary_posted") == 1


def test_rate_limited_create_completes_later(harness: Harness) -> None:
    h = harness
    h.emu.rate_limit("conversations.create", retry_after=1, times=1)
    h.command("declare sev3 Slow builds")
    assert h.incident(1).provisioned_at is not None
    assert len(h.emu.calls_to("conversations.create")) == 2  # the 429, then the retry
    assert len([c for c in h.emu.channels.values() if c.name.startswith("inc-1-")]) == 1


def test_acks_stay_fast_while_slack_takes_two_seconds_a_call(configured_harness: Any) -> None:
    # A load test, not one person: the per-person declare limit would refuse all but five.
    h: Harness = configured_harness(IncidentConfig(declare_rate_limit="1000/1m"))
    h.emu.set_latency(2.0)

    def declare(i: int) -> tuple[int, float]:
        started = time.monotonic()
        result = h.command(f"declare sev3 Concurrent incident {i}", user="U1", settle=False)
        return result.status, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=100) as pool:
        results = list(pool.map(declare, range(100)))
    h.emu.set_latency(0.0)
    assert all(status == 200 for status, _ in results)
    slowest = max(elapsed for _, elapsed in results)
    assert slowest < 3.0, f"slowest acknowledgement took {slowest:.2f}s"
    h.settle()
    with h.bot.runtime.uow() as tx:
        assert len(tx.incidents.list_since()) == 100
