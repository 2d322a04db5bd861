"""Slack errors are data: a refusal no retry can fix stops the job at once and says how to fix it."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from bot.slack.manifest import build_manifest
from tests.reliability.conftest import Rig


def slack_error_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("slack_error ")]


def test_missing_scope_stops_the_room_at_once_and_tells_the_declarer(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    rig.emu.error("conversations.create", "missing_scope", times=None)
    with caplog.at_level(logging.WARNING):
        rig.command("declare sev2 Checkout is timing out")
        rig.bot.runtime.tick()
        rig.settle()
    assert len(rig.emu.calls_to("conversations.create")) == 1, "a refusal is not retried"
    assert rig.pending_jobs() == 0
    (told,) = rig.emu.calls_to("chat.postEphemeral")
    assert told.args["channel"] == rig.general and told.args["user"] == "U1"
    assert told.args["text"] == (
        ":warning: I could not set up the war room for INC-1: the app lacks a scope "
        "`conversations.create` needs: reinstall it with the manifest from `incidentbot manifest`."
    )
    assert "slack_error method=conversations.create code=missing_scope retryable=false incident=INC-1" in (
        slack_error_lines(caplog)
    )
    assert any("gave up" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
    with rig.bot.runtime.uow() as tx:
        assert not tx.jobs.pending_for(1), "a job that gave up is finished and holds up nothing"


def test_a_refused_dm_does_not_retry_for_hours_and_the_assigner_hears_why(rig: Rig) -> None:
    rig.command("declare sev2 Checkout is timing out")
    room = rig.room(1).id
    rig.emu.error("chat.postMessage", "messages_tab_disabled", times=1)
    rig.command("assign comms <@U3|carol>", channel=room)
    rig.bot.runtime.tick()
    rig.settle()
    assert rig.pending_jobs() == 0
    told = [c.args["text"] for c in rig.emu.calls_to("chat.postEphemeral") if c.args["user"] == "U1"]
    assert any("Messages tab is turned off" in text for text in told), told
    # The role itself was recorded and the rest of the job happened.
    assert "*Comms:* <@U3>" in rig.emu.channels[room].messages[0].text
    rig.command("update identified Found it", channel=room)
    assert "Found it" in rig.emu.channels[room].messages[-1].text, "later jobs are not held up"


def test_invalid_token_is_not_reported_as_an_unknown_user_group(rig: Rig) -> None:
    rig.command("declare sev2 Checkout is timing out")
    room = rig.room(1).id
    rig.emu.error("usergroups.users.list", "invalid_auth")
    rig.command("escalate <!subteam^S1|db-oncall>", channel=room)
    reply = rig.replies()[-1]
    assert "can't find the user group" not in reply
    assert "no longer accepts the bot's token (`invalid_auth`)" in reply and "nothing was changed" in reply
    assert "escalated" not in rig.timeline_kinds(1)


def test_passing_failures_are_still_retried(rig: Rig) -> None:
    rig.emu.fail("pins.add", status=503, times=3)  # the client's own retries, then the job's
    rig.command("declare sev2 Checkout is timing out")
    assert rig.incident(1).provisioned_at is None and rig.pending_jobs() == 1
    rig.tick_until(lambda: rig.incident(1).provisioned_at is not None)
    assert not [c for c in rig.emu.calls_to("chat.postEphemeral") if "could not" in c.args["text"]]


def test_an_app_installed_without_the_messages_tab_cannot_brief_and_says_how_to_fix_it(
    make_rig: Callable[..., Rig],
) -> None:
    manifest = build_manifest()
    del manifest["features"]["app_home"]
    rig = make_rig(manifest=manifest)
    rig.command("declare sev2 Checkout is timing out")
    room = rig.room(1).id
    rig.command("assign comms <@U3|carol>", channel=room)
    refused = [c for c in rig.emu.calls_to("chat.postMessage") if c.args["channel"] == "U3"]
    assert [c.error for c in refused] == ["messages_tab_disabled"], "refused once, not retried"
    told = [c.args["text"] for c in rig.emu.calls_to("chat.postEphemeral") if c.args["user"] == "U1"]
    assert any("Messages tab is turned off" in text for text in told), told


def test_with_the_shipped_manifest_the_briefing_reaches_the_assignee(rig: Rig) -> None:
    rig.command("declare sev2 Checkout is timing out")
    rig.command("assign comms <@U3|carol>", channel=rig.room(1).id)
    (briefing,) = [c for c in rig.emu.calls_to("chat.postMessage") if c.args["channel"] == "U3"]
    assert briefing.ok
