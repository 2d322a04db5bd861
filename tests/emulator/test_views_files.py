"""Modal trigger rules and the external file-upload flow."""

from __future__ import annotations

import time
import urllib.request
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import SlackEmulator


def modal(title: str = "Declare incident", blocks: int = 1) -> dict[str, Any]:
    """A minimal valid modal."""
    block = {
        "type": "input",
        "block_id": "title",
        "label": {"type": "plain_text", "text": "Title"},
        "element": {"type": "plain_text_input", "action_id": "value"},
    }
    return {
        "type": "modal",
        "callback_id": "declare",
        "private_metadata": "chan=C1",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Declare"},
        "blocks": [dict(block, block_id=f"b{i}") for i in range(blocks)],
    }


def test_views_open_trigger_rules(client: WebClient, emu: SlackEmulator) -> None:
    trigger = emu.new_trigger_id("U2")
    view = client.views_open(trigger_id=trigger, view=modal())["view"]
    assert view["id"].startswith("V") and view["callback_id"] == "declare"
    assert emu.views[view["id"]]["user_id"] == "U2"
    with pytest.raises(SlackApiError) as exc:
        client.views_open(trigger_id=trigger, view=modal())
    assert exc.value.response["error"] == "exchanged_trigger_id"
    with pytest.raises(SlackApiError) as exc:
        client.views_open(trigger_id="123.456.made-up", view=modal())
    assert exc.value.response["error"] == "invalid_trigger_id"
    emu.trigger_ttl = 0.05
    stale = emu.new_trigger_id("U2")
    time.sleep(0.1)
    with pytest.raises(SlackApiError) as exc:
        client.views_open(trigger_id=stale, view=modal())
    assert exc.value.response["error"] == "expired_trigger_id"


def test_views_validation_and_update(client: WebClient, emu: SlackEmulator) -> None:
    for bad in (modal(title="x" * 25), modal(blocks=101), {**modal(), "type": "sheet"}):
        with pytest.raises(SlackApiError) as exc:
            client.views_open(trigger_id=emu.new_trigger_id(), view=bad)
        assert exc.value.response["error"] == "invalid_arguments"
    view = client.views_open(trigger_id=emu.new_trigger_id(), view=modal())["view"]
    updated = client.views_update(view_id=view["id"], view=modal(title="Updated"), hash=view["hash"])["view"]
    assert updated["id"] == view["id"] and emu.views[view["id"]]["title"]["text"] == "Updated"
    with pytest.raises(SlackApiError) as exc:
        client.views_update(view_id=view["id"], view=modal(), hash=view["hash"])
    assert exc.value.response["error"] == "hash_conflict"
    with pytest.raises(SlackApiError) as exc:
        client.views_update(view_id="V0NOPE", view=modal())
    assert exc.value.response["error"] == "not_found"


def test_external_upload_flow_shares_asynchronously(client: WebClient, emu: SlackEmulator) -> None:
    """The share message lands seconds after completeUploadExternal, as Slack's does."""
    assert emu.file_share_delay == 1.0
    emu.file_share_delay = 0.3
    cid = emu.add_channel("inc-files")
    content = b"# Postmortem\n\nall good\n"
    resp = client.files_upload_v2(
        channel=cid, content=content, filename="postmortem.md", title="Postmortem", initial_comment="Draft"
    )
    fid = resp["file"]["id"]
    assert resp["file"]["permalink"].endswith(fid)
    stored = emu.files[fid]
    assert stored.content == content and stored.title == "Postmortem"
    assert emu.channels[cid].messages == [] and stored.channel_ids == []  # not shared yet
    history = client.conversations_history(channel=cid)["messages"]
    assert history == []
    deadline = time.monotonic() + 5
    while not emu.channels[cid].messages and time.monotonic() < deadline:
        time.sleep(0.05)
    msg = emu.channels[cid].messages[-1]
    assert msg.text == "Draft" and msg.files[0]["id"] == fid and stored.channel_ids == [cid]
    methods = [c.method for c in emu.calls]
    assert methods == ["files.getUploadURLExternal", "files.completeUploadExternal", "conversations.history"]


def test_upload_share_rules(client: WebClient, emu: SlackEmulator) -> None:
    """Sharing needs membership; file_share_delay = 0 shares at once for tests that do not care."""
    emu.file_share_delay = 0
    outside = emu.add_channel("no-bot-files", bot_member=False)
    with pytest.raises(SlackApiError) as exc:
        client.files_upload_v2(channel=outside, content=b"x", filename="a.txt")
    assert exc.value.response["error"] == "not_in_channel"
    cid = emu.add_channel("with-bot-files")
    client.files_upload_v2(channel=cid, content=b"x", filename="a.txt")
    assert len(emu.channels[cid].messages) == 1


def test_upload_errors(client: WebClient, emu: SlackEmulator) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.files_completeUploadExternal(files=[{"id": "F0UNKNOWN", "title": "x"}])
    assert exc.value.response["error"] == "file_not_found"
    ticket = client.files_getUploadURLExternal(filename="a.txt", length=10)
    assert ticket["upload_url"] == f"{emu.base_url}upload/{ticket['file_id']}"
    req = urllib.request.Request(ticket["upload_url"], data=b"short", method="POST")
    with urllib.request.urlopen(req, timeout=5) as r:  # noqa: S310
        assert r.status == 200
    with pytest.raises(SlackApiError) as exc:
        client.files_completeUploadExternal(files=[{"id": ticket["file_id"], "title": "a"}])
    assert exc.value.response["error"] == "file_update_failed"
