"""Transcript rendering: what a human would read in each channel."""

from __future__ import annotations

import re
from typing import Any

from slack_sdk import WebClient

from bot.emulator import SlackEmulator


def test_transcript_renders_mentions_pins_edits_files_and_blocks(
    client: WebClient, emu: SlackEmulator
) -> None:
    emu.file_share_delay = 0  # the file's share message is part of what this transcript shows
    cid = client.conversations_create(name="inc-7-api")["channel"]["id"]
    client.conversations_invite(channel=cid, users="U1")
    first = client.chat_postMessage(
        channel=cid, text=f"<@U1> declared in <#{emu.general_channel_id}|general>"
    )
    client.pins_add(channel=cid, timestamp=first["ts"])
    draft = client.chat_postMessage(channel=cid, text="status: investigating")["ts"]
    client.chat_update(channel=cid, ts=draft, text="status: mitigated &amp; watching")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Incident 7"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "Lead: <@U1>"}},
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Resolve"}, "action_id": "r"}
            ],
        },
    ]
    client.chat_postMessage(channel=cid, text="fallback", blocks=blocks)
    emu.post_as_user(cid, "U1", "thanks", thread_ts=first["ts"])
    client.files_upload_v2(channel=cid, content=b"abc", filename="notes.txt", title="Notes")

    text = emu.transcript([cid])
    lines = text.splitlines()
    assert lines[0] == "#inc-7-api"
    assert re.match(r"\[\d\d:\d\d:\d\d\] @incidentbot: @user1 declared in #general \(pinned\)$", lines[1])
    assert "    > " in lines[2] and lines[2].endswith("@user1: thanks")
    assert lines[3].endswith("@incidentbot: status: mitigated & watching (edited)")
    assert lines[4].endswith("@incidentbot: # Incident 7")
    assert lines[5:7] == ["    Lead: @user1", "    [Resolve]"]
    assert lines[8] == '    [file: notes.txt "Notes" 3 bytes]'
    assert "fallback" not in text and "<@" not in text


def test_transcript_defaults_to_channels_with_messages(emu: SlackEmulator) -> None:
    busy = emu.add_channel("busy", members={"U2"})
    emu.add_channel("quiet")
    emu.post_as_user(busy, "U2", "hello")
    text = emu.transcript()
    assert "#busy" in text and "#quiet" not in text
    assert emu.transcript([]) == ""
