"""Slack errors are handled by what they mean, not retried blindly nor shown raw."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from bot.ops.config import IncidentConfig
from tests.reliability.conftest import Rig


def test_name_taken_moves_to_the_next_suffix(rig: Rig) -> None:
    rig.emu.add_channel("inc-1-db-down", members={"U3"})
    rig.emu.add_channel("inc-1-db-down-2", members={"U3"})
    rig.command("declare sev1 DB down")
    assert rig.room(1).name == "inc-1-db-down-3"
    assert rig.incident(1).provisioned_at is not None


def test_already_in_channel_counts_as_done(rig: Rig) -> None:
    rig.emu.error("conversations.invite", "already_in_channel")
    rig.command("declare sev2 Queue backlog")
    assert rig.incident(1).provisioned_at is not None
    assert "member_invited" in rig.timeline_kinds(1)
    assert len(rig.emu.calls_to("conversations.invite")) == 1, "not retried"


def test_unknown_user_is_named_and_nothing_changes(rig: Rig) -> None:
    rig.command("declare sev2 Queue backlog")
    room = str(rig.room(1).id)
    rig.command("assign comms <@U999|ghost>", channel=room)
    assert "can't find <@U999>" in rig.replies()[-1]
    rig.command("escalate <@U998|ghost>", channel=room)
    assert "can't find <@U998>" in rig.replies()[-1]
    assert "role_assigned" not in rig.timeline_kinds(1) and "escalated" not in rig.timeline_kinds(1)


def test_user_gone_by_the_time_of_the_invite_does_not_block_the_job(rig: Rig) -> None:
    rig.command("declare sev2 Queue backlog")
    room = str(rig.room(1).id)
    rig.emu.error("conversations.invite", "user_not_found", times=None)
    rig.command("assign comms <@U3|carol>", channel=room)
    assert rig.pending_jobs() == 0, "a permanent error is not retried for hours"
    assert "*Comms:* <@U3>" in rig.emu.channels[room].messages[0].text


def test_not_in_announce_channel_joins_then_posts(make_rig: Callable[..., Rig]) -> None:
    r = make_rig(config=IncidentConfig(announce_channel="stakeholders"), announce_exists=False)
    r.emu.add_channel("stakeholders", members={"U2"}, bot_member=False)
    r.command("declare sev2 Queue backlog")
    stakeholders = r.emu.channel_by_name("stakeholders")
    assert stakeholders is not None and len(stakeholders.messages) == 1
    # Only the announce channel's calls: the room's summary is posted concurrently and may interleave.
    to_announce = [
        c.method
        for c in r.emu.calls
        if c.method in ("conversations.join", "chat.postMessage")
        and c.args.get("channel") in ("stakeholders", "#stakeholders", stakeholders.id)
    ]
    assert to_announce == ["chat.postMessage", "conversations.join", "chat.postMessage"]
    assert r.incident(1).provisioned_at is not None


@pytest.mark.parametrize("problem", ["is_archived", "channel_not_found"])
def test_broken_announce_channel_tells_the_declarer_logs_and_the_room_works(
    make_rig: Callable[..., Rig], problem: str, caplog: pytest.LogCaptureFixture
) -> None:
    r = make_rig(config=IncidentConfig(announce_channel="stakeholders"), announce_exists=False)
    if problem == "is_archived":
        r.emu.add_channel("stakeholders", members={"U2"})
        channel = r.emu.channel_by_name("stakeholders")
        assert channel is not None
        channel.archived = True
    with caplog.at_level(logging.WARNING):
        r.command("declare sev2 Queue backlog")
    room = r.room(1)
    (pinned,) = [m for m in room.messages if m.ts in room.pins]
    assert (pinned.metadata or {}).get("event_type") == "incident_declared"
    (told,) = [m for m in room.messages if "announce channel" in m.text]
    assert "<@U1>" in told.text and "announce channel `stakeholders`" in told.text
    assert not r.emu.calls_to("chat.postEphemeral")
    assert "announce_failed" in r.timeline_kinds(1)
    assert any("announce channel not found" in rec.getMessage() for rec in caplog.records)
    assert r.incident(1).provisioned_at is not None and r.pending_jobs() == 0
    r.command("update identified Found it", channel=room.id)
    assert r.pending_jobs() == 0
    assert any("Found it" in m.text for m in r.emu.channels[room.id].messages)
