"""A job whose post timed out is retried when its retry is due, never at once by a wake-up or a re-run.

Slack may act on a timed-out post after the client gave up; the retry is due once Slack has had as long
again, and its look-up finds the post. Run at once, the look-up missed it and the update was posted (and
announced) twice, as the chaos run saw: a replica woke a job it had deferred earlier although the job had
been claimed since, and had just failed; or re-ran a job claimed again while it ran, right after it failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from tests.reliability.conftest import Rig


def posts(rig: Rig, channel: str, text: str) -> int:
    return sum(
        1
        for m in rig.emu.channels[channel].messages
        if (m.metadata or {}).get("event_type") == "incident_update" and text in m.text
    )


def test_a_timed_out_update_deferred_earlier_is_announced_once(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(replicas=2, client_timeout=1)
    first, second = rig.replicas
    rig.command("declare sev2 Checkout is timing out")
    room = rig.room(1).id
    # An update on the second replica is still setting the topic when the next one reaches the first,
    # which defers that one behind it; the second replica finishes and wakes nobody on the first.
    rig.emu.set_latency(0.6, "conversations.setTopic")
    rig.emu.send_command(second.url, "update identified Found a bad deploy", channel_id=room)
    rig.emu.send_command(first.url, "update monitoring Rolled back the deploy", channel_id=room)
    rig.settle()
    rig.emu.set_latency(0, "conversations.setTopic")
    assert rig.pending_jobs() == 1, "the second update waits behind the first"
    assert posts(rig, room, "Rolled back the deploy") == 0

    # Slack acts on the posts but answers after the client gave up; the first replica's tick runs it.
    rig.emu.set_latency(1.5, "chat.postMessage")
    deadline = time.monotonic() + 5
    while first.bot.runtime.tick() == 0:
        assert time.monotonic() < deadline, "the deferred update never fell due"
        time.sleep(0.05)
    rig.settle()
    rig.emu.clear_faults()
    rig.tick_until(lambda: rig.pending_jobs() == 0)
    time.sleep(1.0)  # any post still in flight at Slack lands
    assert posts(rig, room, "Rolled back the deploy") == 1
    assert posts(rig, rig.announce, "Rolled back the deploy") == 1


def test_a_job_claimed_again_while_it_failed_waits_for_its_retry(make_rig: Callable[..., Rig]) -> None:
    # No heartbeat and a lease shorter than the post: the replica's own tick claims the running job, so
    # the job is to run again once this run ends; the run ends in a timeout, whose retry must wait.
    rig = make_rig(lease=timedelta(seconds=0.2), client_timeout=1)
    rig.command("declare sev2 Checkout is timing out")
    room = rig.room(1).id
    rig.emu.set_latency(1.5, "chat.postMessage")  # Slack posts, but answers after the client gave up
    rig.command("update identified Rolled back the deploy", channel=room, settle=False)
    time.sleep(0.4)  # the lease is over, the posts are still waiting for Slack's answer
    assert rig.bot.runtime.tick() == 1, "the tick claims the running job"
    rig.settle()
    rig.emu.clear_faults()
    rig.tick_until(lambda: rig.pending_jobs() == 0)
    time.sleep(1.0)  # any post still in flight at Slack lands
    assert posts(rig, room, "Rolled back the deploy") == 1
    assert posts(rig, rig.announce, "Rolled back the deploy") == 1
