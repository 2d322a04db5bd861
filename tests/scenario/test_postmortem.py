"""Postmortem drafts: uploaded to the war room on resolve and on request, identical to the CLI export."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from bot.ops.cli import main
from tests.postmortem_markdown import SECTIONS, headings, split
from tests.scenario.conftest import Harness


def shared_files(h: Harness, room: str) -> list[Any]:
    """Files shared to the room, once Slack shows them (a share lands a moment after the upload)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(
        f.completed and not f.channel_ids for f in h.emu.files.values()
    ):
        time.sleep(0.05)
    return [f for f in h.emu.files.values() if f.completed and room in f.channel_ids]


def postmortem_messages(h: Harness, room: str) -> list[Any]:
    return [
        m
        for m in h.emu.channels[room].messages
        if (m.metadata or {}).get("event_type") == "incident_postmortem"
    ]


def cli_export(monkeypatch: pytest.MonkeyPatch, db_url: str, out: Path, *args: str) -> bytes:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("INCIDENTBOT_CONFIG", raising=False)
    assert main(["export", *args, "-o", str(out)]) == 0
    return out.read_bytes() if out.is_file() else b""


def run_incident(h: Harness) -> str:
    """Declare, assign, pin, update, escalate, update, add an action item, resolve."""
    h.command("declare sev2 Checkout is timing out")
    room = str(h.room(1).id)
    h.command("assign commander <@U1|alice>", channel=room)
    h.command("assign comms <@U2|bob>", channel=room)
    h.emu.channels[room].members.add("U3")
    clue = h.emu.post_as_user(room, "U3", "The 14:02 deploy doubled the cart DB pool")
    h.emu.react(h.url, user_id="U1", channel_id=room, ts=clue)
    h.settle()
    h.command("update identified Bad deploy exhausted DB connections; rolling back", channel=room, user="U2")
    h.command("escalate sev1 <@U4|dave>", channel=room)
    h.command("update monitoring Rollback done; error rate normal", channel=room, user="U2")
    h.command("action Alert on DB pool saturation <@U4|dave>", channel=room)
    h.command("resolve Rolled back the bad deploy", channel=room)
    return room


def test_resolve_uploads_the_draft_that_the_cli_exports(
    any_db_harness: Harness, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = any_db_harness
    room = run_incident(h)
    name = h.emu.channels[room].name

    (uploaded,) = shared_files(h, room)
    assert uploaded.filename == f"{name}-postmortem.md"
    (announced,) = postmortem_messages(h, room)
    payload = announced.metadata["event_payload"]
    assert payload["incident"] == "INC-1" and payload["file_id"] == uploaded.id
    assert payload["permalink"] in announced.text and payload["status"] == "resolved"
    assert [c.method for c in h.emu.calls if c.method.startswith("files.")] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]

    exported = cli_export(monkeypatch, db_url, tmp_path / "INC-1.md", "INC-1")
    assert exported == uploaded.content, "the war room's file and the CLI export are byte-identical"

    text = exported.decode()
    front, body = split(text)
    assert front["id"] == "INC-1" and front["status"] == "resolved" and front["severity"] == "sev1"
    assert [p["severity"] for p in front["severity_history"]] == ["sev2", "sev1"]
    assert front["updates"] == 2 and front["updates_within_cadence"] == 2
    assert front["acknowledged"] and front["mitigated"] and front["resolved"]
    assert set(front["participants"]) >= {"U1", "U2", "U3", "U4"}
    assert headings(body) == ["INC-1: Checkout is timing out", *SECTIONS]
    timeline = body.split("## Timeline", 1)[1].split("## Roles", 1)[0]
    for seen in (
        "Declared sev2: Checkout is timing out",
        # People by the names Slack gave when the draft was shared (users.info), in upload and export.
        "Commander: @alice",
        "Comms: @bob",
        "The 14:02 deploy doubled the cart DB pool",
        "Bad deploy exhausted DB connections; rolling back",
        "Severity: sev2 → sev1",
        "paged @dave",
        "Rollback done; error rate normal",
        "Alert on DB pool saturation",
        "Resolved: Rolled back the bad deploy",
    ):
        assert seen in timeline, seen
    assert "/archives/" in body.split("## Pinned messages", 1)[1], "pinned messages link to Slack"
    assert (
        "Alert on DB pool saturation · owner @dave · open · added by @" in body.split("## Action items", 1)[1]
    )
    assert "@U1" not in body and "@U4" not in body


def test_json_export_and_export_all(
    harness: Harness, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    run_incident(h)
    h.command("declare sev3 Slow builds")
    record = json.loads(
        cli_export(monkeypatch, sqlite_url, tmp_path / "one.json", "INC-1", "--format", "json")
    )
    assert record["id"] == "INC-1" and record["resolved_at"].endswith("Z")
    assert [r["role"] for r in record["roles"]] == ["commander", "comms"]
    assert [a["text"] for a in record["action_items"]] == ["Alert on DB pool saturation"]
    assert record["action_items"][0]["owner"] == "U4"
    assert record["people"]["U4"] == "dave" and record["people"]["U1"] == "alice"
    assert [u["status"] for u in record["updates"]] == ["identified", "monitoring"]
    kinds = [e["kind"] for e in record["timeline"]]
    for kind in (
        "declared",
        "role_assigned",
        "pinned",
        "update_posted",
        "escalated",
        "action_item",
        "resolved",
    ):
        assert kind in kinds, kind

    out = tmp_path / "all"
    cli_export(monkeypatch, sqlite_url, out, "--all")
    assert sorted(p.name for p in out.iterdir()) == ["INC-1.md", "INC-2.md"]
    assert (out / "INC-2.md").read_text().startswith("---\nid: INC-2\n")
    later = tmp_path / "later"
    cli_export(monkeypatch, sqlite_url, later, "--all", "--since", "2999-01-01", "--format", "json")
    assert list(later.iterdir()) == []


def test_postmortem_on_request_and_action_items_after_resolve(harness: Harness) -> None:
    h = harness
    h.command("declare sev2 Checkout is timing out")
    room = str(h.room(1).id)
    h.command("postmortem", channel=room)
    assert "postmortem draft for INC-1 is in the war room" in h.replies()[-1]
    h.command("assign commander <@U1|alice>", channel=room)
    (draft,) = shared_files(h, room)
    assert b"status: investigating" in draft.content and b"No action items yet." in draft.content

    h.command("resolve", channel=room)
    h.command("action Write the runbook for pool exhaustion", channel=room, user="U2")
    assert "Action item 1 recorded for INC-1" in h.replies()[-1]
    h.command("postmortem", channel=room)
    files = shared_files(h, room)
    assert len(files) == 3 and len(postmortem_messages(h, room)) == 3
    assert b"Write the runbook for pool exhaustion" in files[-1].content
    assert b"Write the runbook" not in files[1].content, "the draft made on resolve came before the item"

    h.command("postmortem")
    assert "works inside an incident's war room" in h.replies()[-1]


def test_names_are_looked_up_once_and_a_failed_look_up_shows_the_id(harness: Harness) -> None:
    h = harness
    h.command("declare sev2 Search is down")
    room = str(h.room(1).id)
    h.command("assign commander <@U2|bob>", channel=room)
    h.emu.fail("users.info", status=500, times=None)  # Slack cannot tell names: the draft still goes up
    h.command("postmortem", channel=room)
    first = shared_files(h, room)[-1].content.decode()
    assert "Commander: @U2" in first and "by @U1" in first
    h.emu.clear_faults()
    h.command("postmortem", channel=room)
    second = shared_files(h, room)[-1].content.decode()
    assert "Commander: @bob" in second and "by @alice" in second
    looked_up = len(h.emu.calls_to("users.info"))
    h.command("note Failing over", channel=room)
    h.command("postmortem", channel=room)
    assert len(h.emu.calls_to("users.info")) == looked_up, "names already known are not asked for again"


def test_user_text_cannot_change_the_draft_structure(harness: Harness) -> None:
    h = harness
    h.command("declare sev2 # Not a heading ``` --- &lt;b&gt;x&lt;/b&gt;")  # as Slack escapes it
    room = str(h.room(1).id)
    h.emu.channels[room].members.add("U3")
    ts = h.emu.post_as_user(
        room, "U3", "# Heading?\n```\nfenced\n```\n---\nid: INC-99\n<script>x</script>\n- item"
    )
    h.emu.react(h.url, user_id="U1", channel_id=room, ts=ts)
    h.settle()
    h.command("note ## also not a heading", channel=room)
    h.command("assign commander <@U1|alice>", channel=room)
    h.command("resolve", channel=room)
    (draft,) = shared_files(h, room)
    front, body = split(draft.content.decode())
    assert front["id"] == "INC-1" and front["title"] == "# Not a heading ``` --- <b>x</b>"
    assert headings(body)[1:] == SECTIONS
    tokens = MarkdownIt("commonmark").parse(body)
    assert not [
        t.type for t in tokens if t.type in ("fence", "code_block", "html_block", "hr", "blockquote_open")
    ]
    assert not [c for t in tokens if t.children for c in t.children if c.type == "html_inline"]


def _sweep_until(h: Harness, done: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        h.bot.runtime.tick()
        if done():
            return
        time.sleep(0.1)
    raise AssertionError("the postmortem job did not finish")


def test_failed_upload_is_retried_and_shared_once(harness: Harness) -> None:
    h = harness
    h.command("declare sev2 Checkout is timing out")
    room = str(h.room(1).id)
    h.emu.fail("files.completeUploadExternal", status=500, times=None)
    h.command("postmortem", channel=room)
    assert "I will post the postmortem draft for INC-1 here" in h.replies()[-1]
    assert shared_files(h, room) == []
    h.emu.clear_faults()
    _sweep_until(h, lambda: len(postmortem_messages(h, room)) == 1)
    assert len(shared_files(h, room)) == 1


def test_metadata_post_failing_after_the_upload_does_not_upload_twice(harness: Harness) -> None:
    h = harness
    h.command("declare sev2 Checkout is timing out")
    room = str(h.room(1).id)
    h.emu.fail("chat.postMessage", status=500, times=None)
    h.command("postmortem", channel=room)
    assert len(shared_files(h, room)) == 1 and postmortem_messages(h, room) == []
    h.emu.clear_faults()
    _sweep_until(h, lambda: len(postmortem_messages(h, room)) == 1)
    (uploaded,) = shared_files(h, room)
    assert postmortem_messages(h, room)[0].metadata["event_payload"]["file_id"] == uploaded.id
    assert len(h.emu.calls_to("files.getUploadURLExternal")) == 1


def test_demo_shows_the_draft_and_leaves_no_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from argparse import Namespace

    from bot.ops.demo import run_demo

    monkeypatch.chdir(tmp_path)
    assert run_demo(Namespace(slow=False)) == 0
    out = capsys.readouterr().out
    assert (
        "postmortem draft uploaded to the war room (inc-1-" in out
        and "# INC-1: Checkout is timing out" in out
    )
    assert list(tmp_path.iterdir()) == []
    kept = tmp_path / "kept"
    kept.mkdir()
    assert run_demo(Namespace(slow=False, postmortem_dir=kept)) == 0
    (draft,) = kept.iterdir()
    assert draft.name.endswith("-postmortem.md") and draft.read_text().startswith("---\nid: INC-1\n")
