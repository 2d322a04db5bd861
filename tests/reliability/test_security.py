"""Signatures, private incidents, permissions on every path, and secrets that never leave the process."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bot.emulator import sign_request
from bot.ops.cli import main as cli_main
from bot.ops.config import IncidentConfig
from bot.slack.ids import ActionId, BlockId
from bot.slack.manifest import CallbackId
from store.models import ProcessedDelivery
from tests.reliability import payloads
from tests.reliability.conftest import Rig, bot_output


def _post(url: str, body: bytes, content_type: str, headers: dict[str, str]) -> int:
    req = urllib.request.Request(url, data=body, headers={**headers, "Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return err.code


def test_bad_stale_or_missing_signatures_are_refused_on_every_surface(rig: Rig) -> None:
    r = rig
    event = {
        "type": "event_callback",
        "event_id": "EvFORGED",
        "team_id": r.emu.team_id,
        "event": {"type": "reaction_added", "user": "U1", "reaction": "memo", "item": {"type": "message"}},
    }
    click = payloads.block_action(
        r.emu, user="U1", channel=r.general, message_ts="1.0", action_id=ActionId.JOIN_ROOM, value="1"
    )
    submission = {
        "type": "view_submission",
        "user": {"id": "U1"},
        "trigger_id": "t",
        "view": {
            "callback_id": "declare_incident_modal",
            "state": {"values": payloads.declare_values("Forged")},
        },
    }
    shortcut = payloads.global_shortcut(r.emu, CallbackId.DECLARE_INCIDENT, user="U1")
    bodies = [
        (
            b"command=%2Fincident&text=declare+sev1+forged&user_id=U1&channel_id=C1",
            "application/x-www-form-urlencoded",
        ),
        (json.dumps(event).encode(), "application/json"),
        *[
            (urlencode({"payload": json.dumps(p)}).encode(), "application/x-www-form-urlencoded")
            for p in (click, submission, shortcut)
        ],
    ]
    for body, content_type in bodies:
        for headers in (
            {"X-Slack-Signature": "v0=" + "0" * 64, "X-Slack-Request-Timestamp": str(int(time.time()))},
            sign_request(r.emu.signing_secret, body, int(time.time()) - 301),
            sign_request("not-the-secret", body),
            {},
        ):
            assert _post(r.url, body, content_type, headers) == 401, (body[:40], headers)
    r.settle()
    assert r.incidents() == []
    with r.bot.runtime.uow() as tx:
        assert tx.session.query(ProcessedDelivery).count() == 0
    assert r.emu.calls == [] and r.emu.responses == []


def test_private_incident_never_shows_outside_its_room_nor_in_info_logs(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    r = rig
    title, details = "Payroll export leaked", "Salaries of the exec team in a public bucket"
    with caplog.at_level(logging.INFO):
        logging.getLogger("bot.probe").info("capture probe")
        r.command("declare")
        view_id = next(iter(r.emu.views))
        form = payloads.declare_values(title, "sev1", description=details, private=True)
        r.emu.send_interaction(r.url, payloads.view_submission(r.emu, view_id, form, user="U1"))
        r.settle()
        room = str(r.room(1).id)
        assert r.emu.channels[room].is_private
        for text in (
            "assign commander <@U1|alice>",
            f"update identified {title}: bucket locked",
            "escalate sev1 <@U3|carol>",
            f"note {details}",
        ):
            r.command(text, channel=room)
        ts = r.emu.post_as_user(room, "U3", f"{title} confirmed")
        r.emu.react(r.url, user_id="U1", channel_id=room, ts=ts)
        r.command("list", user="U2")
        r.command("status", user="U2")
        r.command(f"resolve {title} contained", channel=room)
        r.settle()
    assert r.incident(1).status == "resolved"
    members = r.emu.channels[room].members
    for call in r.emu.calls:
        shown = json.dumps(call.args)
        if title in shown or "Salaries" in shown:
            channel = str(call.args.get("channel") or call.args.get("channel_id") or "")
            assert channel == room or channel in members, f"{call.method} to {channel}"
    announce = json.dumps([(m.text, m.blocks, m.metadata) for m in r.emu.channels[r.announce].messages])
    assert "INC-1" in announce and title not in announce and "Salaries" not in announce
    outsiders = [resp.body.get("text", "") for resp in r.emu.responses if resp.url]
    assert not any(title in str(t) for t in outsiders[-3:-1]), "list and status for a non-member"
    logged = [rec.getMessage() for rec in caplog.records if rec.levelno >= logging.INFO]
    assert "capture probe" in logged, "the capture sees the bot's loggers at INFO"
    assert not [m for m in logged if title in m or "Salaries" in m or "Payroll" in m]


def test_permissions_hold_on_every_path(make_rig: Callable[..., Rig]) -> None:
    r = make_rig(config=IncidentConfig(admins=["U4"]))
    r.command("declare sev2 Checkout is timing out")
    room = str(r.room(1).id)
    r.command("assign commander <@U2|bob>", channel=room)
    # Slash command: only the commander or an admin may resolve or lower the severity.
    r.command("resolve done", channel=room, user="U3")
    assert "Only the commander or an admin may resolve INC-1" in r.replies()[-1]
    r.command("escalate sev4", channel=room, user="U3")
    assert "may lower the severity" in r.replies()[-1]
    assert (r.incident(1).status, r.incident(1).severity) == ("investigating", "sev2")
    # Modal: the update form cannot be used to resolve.
    r.command("update", channel=room, user="U3")
    view_id = next(iter(r.emu.views))
    answer = r.emu.submit_view(r.url, view_id, payloads.update_values("done", "resolved"), user_id="U3")
    assert answer.json()["response_action"] == "errors" and BlockId.STATUS in answer.json()["errors"]
    # Shortcut and reaction: outside a war room they do nothing.
    ts = r.emu.post_as_user(r.general, "U3", "not an incident")
    r.emu.message_shortcut(
        r.url, callback_id=CallbackId.ADD_TO_TIMELINE, user_id="U3", channel_id=r.general, message_ts=ts
    )
    r.emu.react(r.url, user_id="U3", channel_id=r.general, ts=ts, reaction="pushpin")
    r.settle()
    assert "only from its war room" in r.replies()[-1]
    assert "pinned" not in r.timeline_kinds(1)
    # Button: joining is open to whoever was paged, and changes nothing else.
    r.emu.click_button(
        r.url, user_id="U3", channel_id=r.general, message_ts=ts, action_id=ActionId.JOIN_ROOM, value="1"
    )
    r.settle()
    assert r.incident(1).status == "investigating"
    # An admin may.
    r.command("resolve done", channel=room, user="U4")
    assert r.incident(1).status == "resolved" and r.incident(1).resolved_by == "U4"


def test_no_secret_in_logs_messages_or_exports(
    rig: Rig, caplog: pytest.LogCaptureFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = rig
    secrets = (r.emu.bot_token, r.emu.signing_secret)
    marker = "ZEBRA-PAYLOAD-7731"
    with caplog.at_level(logging.DEBUG):
        r.command(f"declare sev2 {marker}")
        room = str(r.room(1).id)
        r.emu.fail("chat.postMessage", status=500, times=3)
        r.command(f"update identified {marker}", channel=room)
        r.emu.clear_faults()
        r.tick_until(lambda: r.pending_jobs() == 0)
        r.command("assign commander <@U1|alice>", channel=room)
        r.command(f"resolve {marker}", channel=room)
    records = [(rec.levelno, rec.getMessage() + (rec.exc_text or "")) for rec in caplog.records]
    assert records
    for level, message in records:
        assert not any(s in message for s in secrets), message[:200]
        if level >= logging.INFO:
            assert marker not in message, f"user text logged at INFO: {message[:200]}"
    for _, text in bot_output(r.emu):
        assert not any(s in text for s in secrets)
    monkeypatch.setenv("DATABASE_URL", str(r.bot.engine.url.render_as_string(hide_password=False)))
    monkeypatch.setenv("SLACK_BOT_TOKEN", r.emu.bot_token)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", r.emu.signing_secret)
    for fmt in ("markdown", "json"):
        out = tmp_path / f"inc-1.{fmt}"
        assert cli_main(["export", "INC-1", "--format", fmt, "-o", str(out)]) == 0
        exported = out.read_text()
        assert marker in exported and not any(s in exported for s in secrets)
