"""Text, Block Kit and message metadata limits, with the errors Slack answers beyond them."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import SlackEmulator

from .conftest import error_of


def section(text: str, block_id: str | None = None) -> dict[str, Any]:
    """A mrkdwn section block."""
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id is not None:
        block["block_id"] = block_id
    return block


def modal(blocks: list[dict[str, Any]], title: str = "Declare") -> dict[str, Any]:
    """A modal with the given blocks."""
    return {"type": "modal", "title": {"type": "plain_text", "text": title}, "blocks": blocks}


def test_text_limit_on_every_message_write(client: WebClient, emu: SlackEmulator) -> None:
    cid = emu.add_channel("text-limits", members={"U1"})
    ts = client.chat_postMessage(channel=cid, text="x" * 40_000)["ts"]
    for call in (
        lambda: client.chat_postMessage(channel=cid, text="x" * 40_001),
        lambda: client.chat_update(channel=cid, ts=ts, text="x" * 40_001),
        lambda: client.chat_postEphemeral(channel=cid, user="U1", text="x" * 40_001),
    ):
        with pytest.raises(SlackApiError) as exc:
            call()
        assert error_of(exc) == "msg_too_long"


@pytest.mark.parametrize(
    ("blocks", "where"),
    [
        ([section("x" * 3000)], None),
        ([section("x" * 3001)], "/blocks/0/text/text"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}], "/blocks/0/text/text"),
        ([section("a", "b" * 256)], "/blocks/0/block_id"),
        ([section("a", "same"), section("b", "same")], "/blocks/1/block_id"),
        ([{"type": "divider"}] * 50, None),
        ([{"type": "divider"}] * 51, "/blocks"),
    ],
)
def test_message_block_limits(
    client: WebClient, emu: SlackEmulator, blocks: list[dict[str, Any]], where: str | None
) -> None:
    cid = emu.add_channel("block-limits")
    if where is None:
        assert client.chat_postMessage(channel=cid, text="t", blocks=blocks)["ok"]
        return
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=cid, text="t", blocks=blocks)
    assert error_of(exc) == "invalid_blocks"
    assert where in exc.value.response["response_metadata"]["messages"][0]


def checkboxes(count: int, initial: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    options = [{"text": {"type": "plain_text", "text": f"Item {n}"}, "value": str(n)} for n in range(count)]
    element: dict[str, Any] = {"type": "checkboxes", "action_id": "boxes", "options": options}
    if initial is not None:
        element["initial_options"] = initial
    return {"type": "actions", "block_id": "list", "elements": [element]}


@pytest.mark.parametrize(
    ("block", "where"),
    [
        (checkboxes(10), None),
        (checkboxes(11), "/blocks/0/elements/0/options"),
        (checkboxes(2, [{"text": {"type": "plain_text", "text": "Item 1"}, "value": "1"}]), None),
        (
            checkboxes(2, [{"text": {"type": "plain_text", "text": "Other"}, "value": "1"}]),
            "initial_options/0",
        ),
    ],
)
def test_checkbox_limits(
    client: WebClient, emu: SlackEmulator, block: dict[str, Any], where: str | None
) -> None:
    """Slack: at most 10 options a checkboxes element; initial options exactly match some of them."""
    cid = emu.add_channel("checkbox-limits")
    if where is None:
        assert client.chat_postMessage(channel=cid, text="t", blocks=[block])["ok"]
        return
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=cid, text="t", blocks=[block])
    assert error_of(exc) == "invalid_blocks"
    assert where in exc.value.response["response_metadata"]["messages"][0]


def test_view_limits(client: WebClient, emu: SlackEmulator) -> None:
    assert client.views_open(trigger_id=emu.new_trigger_id(), view=modal([{"type": "divider"}] * 100))["ok"]
    field = {
        "type": "input",
        "label": {"type": "plain_text", "text": "Title"},
        "element": {"type": "plain_text_input", "action_id": "title"},
    }
    for bad in (modal([{"type": "divider"}] * 101), modal([], title="x" * 25), modal([field])):
        with pytest.raises(SlackApiError) as exc:
            client.views_open(trigger_id=emu.new_trigger_id(), view=bad)
        assert error_of(exc) == "invalid_arguments"


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"event_type": "incident_declared", "event_payload": {"tags": ["a", 1], "by": {"id": "U1"}}}, None),
        ({"event_type": "x"}, "invalid_metadata_format"),
        ("not json", "invalid_metadata_format"),
        ({"event_type": "incident declared", "event_payload": {}}, "invalid_metadata_schema"),
        ({"event_type": "x" * 256, "event_payload": {}}, "invalid_metadata_schema"),
        ({"event_type": "incident", "event_payload": {"key": None}}, "invalid_metadata_schema"),
        ({"event_type": "incident", "event_payload": {"deep": {"er": {"x": 1}}}}, "invalid_metadata_schema"),
        ({"event_type": "incident", "event_payload": {"blob": "x" * 4096}}, "metadata_too_large"),
    ],
)
def test_metadata_rules(client: WebClient, emu: SlackEmulator, metadata: Any, error: str | None) -> None:
    cid = emu.add_channel("meta-limits")
    if error is None:
        posted = client.chat_postMessage(channel=cid, text="t", metadata=metadata)
        assert posted["message"]["metadata"] == metadata
        return
    with pytest.raises(SlackApiError) as exc:
        client.api_call("chat.postMessage", json={"channel": cid, "text": "t", "metadata": metadata})
    assert error_of(exc) == error
    assert emu.channels[cid].messages == []
