"""The one acknowledgement pipeline: look-ups inside the budget, a durable join, each kind acked alike."""

from __future__ import annotations

import time
from typing import Any

from bot.ops.config import IncidentConfig
from bot.slack.ids import ActionId, BlockId
from tests.scenario.conftest import FakeClock, Harness


def declared(h: Harness) -> str:
    h.command("declare sev2 Checkout is timing out")
    return str(h.room(1).id)


def test_assign_is_committed_before_its_ack_even_when_the_lookup_is_slow(harness: Harness) -> None:
    """The person look-up runs inside the record budget: past it the ack says so, and nothing is lost."""
    h = harness
    room = declared(h)
    h.bot.runtime.record_budget = 0.3
    h.emu.set_latency(1.0, "users.info")
    started = time.monotonic()
    ack = h.command("assign commander <@U2|bob>", channel=room, settle=False)
    assert time.monotonic() - started < 1.0, "acknowledged once the budget ran out, not after Slack"
    assert "taking longer than usual" in ack.json()["text"] and "treat it as not done" in ack.json()["text"]
    h.settle()
    assert h.timeline_kinds(1).count("role_assigned") == 1
    assert "is now commander" in h.replies()[-1]


def test_assign_within_the_budget_is_acknowledged_empty_then_confirmed(harness: Harness) -> None:
    h = harness
    room = declared(h)
    ack = h.command("assign commander <@U2|bob>", channel=room, settle=False)
    assert ack.status == 200 and not (ack.json() or {}).get("text"), (
        "an in-time commit acks empty; the confirmation follows"
    )
    h.settle()
    assert "is now commander" in h.replies()[-1]


def test_join_is_a_durable_job_that_survives_a_failing_invite(configured_harness: Any) -> None:
    """A page's Join button records its invite as a job: a Slack failure is retried, not lost."""
    clock = FakeClock()
    h: Harness = configured_harness(IncidentConfig(), clock)
    room = declared(h)
    h.command("escalate <@U2|bob>", channel=room)
    h.emu.channels[room].members.discard("U2")
    dm = next(c for c in h.emu.channels.values() if c.is_im and "U2" in c.members)
    h.emu.fail("conversations.invite", status=500, times=4)  # the client's own retries, then the job's
    h.emu.click_button(
        h.url,
        user_id="U2",
        channel_id=dm.id,
        message_ts=dm.messages[-1].ts,
        action_id=ActionId.JOIN_ROOM,
        value="1",
    )
    h.settle()
    assert "U2" not in h.emu.channels[room].members
    assert "as soon as it answers" in h.replies()[-1]
    for _ in range(5):
        clock.advance(seconds=60)
        h.bot.runtime.tick()
        h.settle()
    assert "U2" in h.emu.channels[room].members


def test_join_button_from_someone_not_paged_changes_nothing(harness: Harness) -> None:
    h = harness
    room = declared(h)
    h.command("escalate <@U2|bob>", channel=room)
    before = len(h.emu.calls_to("conversations.invite"))
    h.emu.click_button(
        h.url, user_id="U7", channel_id=room, message_ts="1.0", action_id=ActionId.JOIN_ROOM, value="1"
    )
    h.settle()
    assert "You were not paged for that incident" in h.replies()[-1]
    assert len(h.emu.calls_to("conversations.invite")) == before


def test_assign_form_naming_someone_deactivated_stays_open_and_changes_nothing(harness: Harness) -> None:
    """A picker offers only people who exist, but one may be deactivated before the form is sent."""
    h = harness
    room = declared(h)
    h.emu.add_user("U8", "gone", deleted=True)
    summary = h.emu.channels[room].messages[0]
    h.emu.click_button(
        h.url, user_id="U1", channel_id=room, message_ts=summary.ts, action_id=ActionId.OPEN_ASSIGN, value="1"
    )
    h.settle()
    view_id = next(iter(h.emu.views))
    values = {
        BlockId.ROLE: {ActionId.ROLE: {"type": "static_select", "selected_option": {"value": "comms"}}},
        BlockId.ASSIGNEE: {ActionId.ASSIGNEE: {"type": "users_select", "selected_user": "U8"}},
    }
    answer = h.emu.submit_view(h.url, view_id, values, user_id="U1")
    assert "can't find <@U8>" in answer.json()["errors"][BlockId.ASSIGNEE]
    h.settle()
    assert "role_assigned" not in h.timeline_kinds(1)
