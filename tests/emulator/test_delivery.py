"""Signed deliveries to the bot (commands, events, interactions) and response_url handling."""

from __future__ import annotations

import json
import time
import urllib.request
from urllib.parse import parse_qs

from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from bot.emulator import SlackEmulator, sign_request

from .conftest import SECRET, Recorder


def test_sign_request_verifies_with_sdk() -> None:
    body = b"token=x&text=hello"
    headers = sign_request(SECRET, body)
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body + b"!", headers)
    old = sign_request(SECRET, body, timestamp=int(time.time()) - 3600)
    assert not verifier.is_valid_request(body, old)
    assert sign_request("s", b"b", timestamp=1)["X-Slack-Request-Timestamp"] == "1"


def test_send_command_form_and_signature(emu: SlackEmulator, bot: Recorder) -> None:
    bot.reply_body = b"ok"
    result = emu.send_command(bot.url, "declare db is down", user_id="U2")
    assert result.status == 200 and result.body == "ok"
    req = bot.requests[0]
    assert SignatureVerifier(SECRET).is_valid_request(req.body, req.headers)
    assert req.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
    assert form["command"] == "/incident" and form["text"] == "declare db is down"
    assert form["user_id"] == "U2" and form["user_name"] == "user2" and form["team_id"] == "T0EMU"
    assert form["channel_id"] == emu.general_channel_id and form["channel_name"] == "general"
    assert form["response_url"].startswith(f"{emu.base_url}response/")
    assert emu.state.triggers[form["trigger_id"]].user_id == "U2"
    assert "X-Slack-Retry-Num" not in req.headers


def test_send_event_wrapper_and_retry_headers(emu: SlackEmulator, bot: Recorder) -> None:
    event = {"type": "app_mention", "user": "U1", "text": "<@UBOT> hi", "channel": emu.general_channel_id}
    emu.send_event(bot.url, event, event_id="Ev123", retry_num=1)
    req = bot.requests[0]
    assert SignatureVerifier(SECRET).is_valid_request(req.body, req.headers)
    wrapper = json.loads(req.body)
    assert wrapper["type"] == "event_callback" and wrapper["event_id"] == "Ev123"
    assert wrapper["team_id"] == "T0EMU" and wrapper["event"]["text"] == "<@UBOT> hi"
    assert isinstance(wrapper["event_time"], int) and "event_ts" in wrapper["event"]
    assert req.headers["X-Slack-Retry-Num"] == "1" and req.headers["X-Slack-Retry-Reason"] == "http_timeout"


def test_click_button_and_submit_view(emu: SlackEmulator, client: WebClient, bot: Recorder) -> None:
    cid = emu.add_channel("inc-btn", members={"U1"})
    blocks = [
        {
            "type": "actions",
            "block_id": "acts",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Resolve"}, "action_id": "resolve"}
            ],
        }
    ]
    with emu.state.lock:
        ts = emu.state.post(emu.state.channels[cid], "UBOT", "incident", blocks=blocks).ts
    emu.click_button(bot.url, user_id="U1", channel_id=cid, message_ts=ts, action_id="resolve", value="42")
    payload = json.loads(parse_qs(bot.requests[0].body.decode())["payload"][0])
    assert payload["type"] == "block_actions" and payload["container"]["message_ts"] == ts
    assert payload["actions"][0]["text"]["text"] == "Resolve" and payload["actions"][0]["value"] == "42"
    assert payload["message"]["text"] == "incident" and payload["trigger_id"] in emu.state.triggers

    view = {
        "type": "modal",
        "callback_id": "resolve_modal",
        "private_metadata": "42",
        "title": {"type": "plain_text", "text": "Resolve"},
        "blocks": [],
    }
    vid = client.views_open(trigger_id=payload["trigger_id"], view=view)["view"]["id"]
    values = {"summary": {"text": {"type": "plain_text_input", "value": "fixed"}}}
    emu.submit_view(bot.url, vid, values, user_id="U1")
    sub = json.loads(parse_qs(bot.requests[1].body.decode())["payload"][0])
    assert sub["type"] == "view_submission" and sub["view"]["callback_id"] == "resolve_modal"
    assert sub["view"]["private_metadata"] == "42" and sub["view"]["state"]["values"] == values
    assert "user_id" not in sub["view"]


def test_shortcut_and_react(emu: SlackEmulator, bot: Recorder) -> None:
    cid = emu.add_channel("inc-react", members={"U1"})
    ts = emu.post_as_user(cid, "U1", "db is slow")
    emu.message_shortcut(bot.url, callback_id="add_timeline", user_id="U1", channel_id=cid, message_ts=ts)
    shortcut = json.loads(parse_qs(bot.requests[0].body.decode())["payload"][0])
    assert shortcut["type"] == "message_action" and shortcut["message"]["text"] == "db is slow"
    emu.react(bot.url, user_id="U1", channel_id=cid, ts=ts)
    event = json.loads(bot.requests[1].body)["event"]
    assert event["type"] == "reaction_added" and event["reaction"] == "pushpin" and event["item_user"] == "U1"
    assert emu.channels[cid].messages[0].reactions == {"pushpin": ["U1"]}
    emu.react(bot.url, user_id="U1", channel_id=cid, ts=ts, removed=True)
    assert json.loads(bot.requests[2].body)["event"]["type"] == "reaction_removed"


def post_json(url: str, body: dict[str, object]) -> int:
    """POST JSON like a bot's respond() does."""
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310
        return int(resp.status)


def test_response_url_recording_and_effects(emu: SlackEmulator) -> None:
    cid = emu.add_channel("inc-resp", members={"U1"})
    url = emu.new_response_url(cid, "U1")
    assert post_json(url, {"text": "only you see this"}) == 200
    assert post_json(url, {"text": "everyone sees this", "response_type": "in_channel"}) == 200
    assert [r.body["text"] for r in emu.responses] == ["only you see this", "everyone sees this"]
    assert emu.responses[0].url == url
    chan = emu.channels[cid]
    assert chan.ephemerals[0].ephemeral_to == "U1" and chan.messages[0].text == "everyone sees this"
    click_url = emu.new_response_url(cid, "U1", chan.messages[0].ts)
    post_json(click_url, {"text": "replaced", "replace_original": True})
    assert chan.messages[0].text == "replaced"
    assert emu.calls == []  # response_url posts are not Web API calls


def test_view_submission_update_response(emu: SlackEmulator, client: WebClient, bot: Recorder) -> None:
    view = {
        "type": "modal",
        "callback_id": "step1",
        "title": {"type": "plain_text", "text": "Step 1"},
        "blocks": [],
    }
    vid = client.views_open(trigger_id=emu.new_trigger_id("U1"), view=view)["view"]["id"]
    step2 = {**view, "callback_id": "step2", "title": {"type": "plain_text", "text": "Step 2"}}
    bot.reply_type = "application/json"
    bot.reply_body = json.dumps({"response_action": "update", "view": step2}).encode()
    assert emu.submit_view(bot.url, vid, {}, user_id="U1").json()["response_action"] == "update"
    assert emu.views[vid]["callback_id"] == "step2" and emu.views[vid]["user_id"] == "U1"
