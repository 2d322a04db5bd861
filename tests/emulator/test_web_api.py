"""Web API semantics of the emulator, exercised through the real slack_sdk WebClient."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import SlackEmulator


def error_of(exc: pytest.ExceptionInfo[SlackApiError]) -> str:
    """The Slack error code carried by a SlackApiError."""
    return str(exc.value.response["error"])


def test_auth_test_describes_bot(client: WebClient) -> None:
    resp = client.auth_test()
    assert resp["user_id"] == "UBOT"
    assert resp["team_id"] == "T0EMU"


def test_missing_and_wrong_token(emu: SlackEmulator) -> None:
    with pytest.raises(SlackApiError) as exc:
        WebClient(base_url=emu.api_url).auth_test()
    assert error_of(exc) == "not_authed"
    with pytest.raises(SlackApiError) as exc:
        WebClient(token="xoxb-wrong", base_url=emu.api_url).auth_test()
    assert error_of(exc) == "invalid_auth"
    assert [c.error for c in emu.calls_to("auth.test")] == ["not_authed", "invalid_auth"]
    assert all(c.status == 200 and "token" not in c.args for c in emu.calls)


def test_unknown_method_and_missing_argument(client: WebClient, emu: SlackEmulator) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.api_call("nope.method")
    assert error_of(exc) == "unknown_method"
    with pytest.raises(SlackApiError) as exc:
        client.api_call("conversations.invite", params={"channel": emu.general_channel_id})
    assert error_of(exc) == "missing_argument"
    assert "users" in exc.value.response["response_metadata"]["messages"][0]


def test_create_channel_rules(client: WebClient, emu: SlackEmulator) -> None:
    resp = client.conversations_create(name="inc-42-db-down", is_private=True)
    chan = resp["channel"]
    assert chan["id"].startswith("C0") and chan["is_private"] is True and chan["creator"] == "UBOT"
    stored = emu.channel_by_name("inc-42-db-down")
    assert stored is not None and stored.members == {"UBOT"}
    for name, error in [
        ("inc-42-db-down", "name_taken"),
        ("Has Caps", "invalid_name_specials"),
        ("x" * 81, "invalid_name_maxlength"),
        ("---", "invalid_name_punctuation"),
    ]:
        with pytest.raises(SlackApiError) as exc:
            client.conversations_create(name=name)
        assert error_of(exc) == error, name


def test_invite_semantics(client: WebClient, emu: SlackEmulator) -> None:
    cid = client.conversations_create(name="inc-1")["channel"]["id"]
    client.conversations_invite(channel=cid, users="U1,U2")
    assert emu.channels[cid].members == {"UBOT", "U1", "U2"}
    for users, error in [("U1,U2", "already_in_channel"), ("U3,UNOPE", "user_not_found")]:
        with pytest.raises(SlackApiError) as exc:
            client.conversations_invite(channel=cid, users=users)
        assert error_of(exc) == error
    assert emu.channels[cid].members == {"UBOT", "U1", "U2"}
    with pytest.raises(SlackApiError) as exc:
        client.conversations_invite(channel="C0MISSING", users="U1")
    assert error_of(exc) == "channel_not_found"
    outside = emu.add_channel("elsewhere", members={"U1"}, bot_member=False)
    with pytest.raises(SlackApiError) as exc:
        client.conversations_invite(channel=outside, users="U2")
    assert error_of(exc) == "not_in_channel"
    client.conversations_archive(channel=cid)
    with pytest.raises(SlackApiError) as exc:
        client.conversations_invite(channel=cid, users="U4")
    assert error_of(exc) == "is_archived"


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
def test_post_by_name_and_membership(client: WebClient, emu: SlackEmulator) -> None:
    cid = emu.add_channel("incidents")
    for ref in ("incidents", "#incidents", cid):
        assert client.chat_postMessage(channel=ref, text="hi")["channel"] == cid
    public = emu.add_channel("random", bot_member=False)
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=public, text="hi")
    assert error_of(exc) == "not_in_channel"
    client.conversations_join(channel=public)
    client.chat_postMessage(channel=public, text="now I can")
    cases: list[tuple[str, str | None, str]] = [
        ("#nowhere", "x", "channel_not_found"),
        (cid, None, "no_text"),
        (cid, "x" * 40001, "msg_too_long"),
    ]
    for channel, text, error in cases:
        with pytest.raises(SlackApiError) as exc:
            client.chat_postMessage(channel=channel, text=text)
        assert error_of(exc) == error


def test_post_to_user_opens_dm(client: WebClient, emu: SlackEmulator) -> None:
    resp = client.chat_postMessage(channel="U3", text="psst")
    dm = emu.channels[resp["channel"]]
    assert dm.id.startswith("D") and dm.members == {"UBOT", "U3"}
    again = client.chat_postMessage(channel="U3", text="again")
    assert again["channel"] == dm.id and [m.text for m in dm.messages] == ["psst", "again"]


def test_metadata_validation_and_history(client: WebClient, emu: SlackEmulator) -> None:
    cid = emu.add_channel("inc-meta")
    meta = {"event_type": "incident_declared", "event_payload": {"id": 7}}
    first = client.chat_postMessage(channel=cid, text="one", metadata=meta)["ts"]
    second = client.chat_postMessage(channel=cid, text="two")["ts"]
    assert float(second) > float(first)
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=cid, text="bad", metadata={"event_type": "x"})
    assert error_of(exc) == "invalid_metadata_format"
    assert emu.calls_to("chat.postMessage")[0].args["metadata"] == meta
    hist = client.conversations_history(channel=cid, include_all_metadata=True)["messages"]
    assert [m["text"] for m in hist] == ["two", "one"]
    assert hist[1]["metadata"] == meta
    plain = client.conversations_history(channel=cid)["messages"]
    assert "metadata" not in plain[1]
    limited = client.conversations_history(channel=cid, limit=1)
    assert len(limited["messages"]) == 1 and limited["has_more"] is True
    assert [m["ts"] for m in client.conversations_history(channel=cid, oldest=first)["messages"]] == [second]


def test_invalid_blocks(client: WebClient, emu: SlackEmulator) -> None:
    cid = emu.add_channel("blocks")
    ok = [{"type": "section", "text": {"type": "mrkdwn", "text": "fine"}}]
    client.chat_postMessage(channel=cid, text="t", blocks=ok)
    button = {"type": "button", "text": {"type": "plain_text", "text": "x" * 76}, "action_id": "a"}
    bad_cases: list[list[dict[str, Any]]] = [
        [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
        [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
        [{"type": "actions", "elements": [button]}],
        [
            {
                "type": "actions",
                "elements": [
                    {**button, "text": {"type": "plain_text", "text": "ok"}, "action_id": "a" * 256}
                ],
            }
        ],
        [{"type": "no_such_block"}],
        [{"type": "actions", "elements": [{"type": "teleporter", "action_id": "x"}]}],
        [{"type": "section", "text": "plain string is not a text object"}],
        [{"type": "divider"}] * 51,
    ]
    for blocks in bad_cases:
        with pytest.raises(SlackApiError) as exc:
            client.chat_postMessage(channel=cid, text="t", blocks=blocks)
        assert error_of(exc) == "invalid_blocks"
        assert exc.value.response["response_metadata"]["messages"]
    assert len(emu.channels[cid].messages) == 1


def test_chat_update(client: WebClient, emu: SlackEmulator) -> None:
    cid = emu.add_channel("upd", members={"U1"})
    ts = client.chat_postMessage(channel=cid, text="v1")["ts"]
    resp = client.chat_update(channel=cid, ts=ts, text="v2")
    assert resp["text"] == "v2"
    msg = emu.channels[cid].messages[0]
    assert msg.text == "v2" and msg.edited and msg.history[0]["text"] == "v1"
    human = emu.post_as_user(cid, "U1", "mine")
    for ts_, error in [(human, "cant_update_message"), ("1.000001", "message_not_found")]:
        with pytest.raises(SlackApiError) as exc:
            client.chat_update(channel=cid, ts=ts_, text="x")
        assert error_of(exc) == error


def test_pins_permalink_topic_ephemeral(client: WebClient, emu: SlackEmulator) -> None:
    cid = emu.add_channel("pins", members={"U1"})
    ts = client.chat_postMessage(channel=cid, text="pin me")["ts"]
    client.pins_add(channel=cid, timestamp=ts)
    assert emu.channels[cid].pins == {ts}
    with pytest.raises(SlackApiError) as exc:
        client.pins_add(channel=cid, timestamp=ts)
    assert error_of(exc) == "already_pinned"
    with pytest.raises(SlackApiError) as exc:
        client.pins_add(channel=cid, timestamp="1.000002")
    assert error_of(exc) == "message_not_found"
    link = client.chat_getPermalink(channel=cid, message_ts=ts)["permalink"]
    assert link == f"https://emulator.slack.invalid/archives/{cid}/p{ts.replace('.', '')}"
    client.conversations_setTopic(channel=cid, topic="SEV1: db down")
    assert emu.channels[cid].topic == "SEV1: db down"
    other = emu.add_channel("no-bot", bot_member=False)
    with pytest.raises(SlackApiError) as exc:
        client.conversations_setTopic(channel=other, topic="x")
    assert error_of(exc) == "not_in_channel"
    client.chat_postEphemeral(channel=cid, user="U1", text="only you")
    assert emu.channels[cid].ephemerals[0].ephemeral_to == "U1"
    with pytest.raises(SlackApiError) as exc:
        client.chat_postEphemeral(channel=cid, user="U2", text="x")
    assert error_of(exc) == "user_not_in_channel"


def test_users_usergroups_members_list(client: WebClient, emu: SlackEmulator) -> None:
    emu.add_user("U123", name="alice", real_name="Alice A")
    assert client.users_info(user="U123")["user"]["real_name"] == "Alice A"
    assert client.users_info(user="U9")["user"]["name"] == "user9"
    with pytest.raises(SlackApiError) as exc:
        client.users_info(user="U404")
    assert error_of(exc) == "user_not_found"
    emu.add_usergroup("S123", handle="oncall", users=["U1", "U2"])
    assert client.usergroups_users_list(usergroup="S123")["users"] == ["U1", "U2"]
    with pytest.raises(SlackApiError) as exc:
        client.usergroups_users_list(usergroup="S404")
    assert error_of(exc) == "no_such_subteam"
    cid = emu.add_channel("members", members={"U1", "U2"})
    assert set(client.conversations_members(channel=cid)["members"]) == {"UBOT", "U1", "U2"}
    for n in range(5):
        emu.add_channel(f"page-{n}")
    client.conversations_archive(channel=cid)
    names: list[str] = []
    for page in client.conversations_list(limit=2, exclude_archived=True):
        names += [c["name"] for c in page["channels"]]
    assert "members" not in names and {f"page-{n}" for n in range(5)} <= set(names)
    assert len(emu.calls_to("conversations.list")) >= 3


def test_json_body_requests(client: WebClient, emu: SlackEmulator) -> None:
    cid = emu.add_channel("json-body")
    blocks = [{"type": "divider"}]
    resp = client.api_call("chat.postMessage", json={"channel": cid, "text": "via json", "blocks": blocks})
    assert resp["message"]["blocks"] == blocks
    call = emu.calls_to("chat.postMessage")[0]
    assert call.args == {"channel": cid, "text": "via json", "blocks": blocks}
    form = client.chat_postMessage(channel=cid, text="via form", blocks=blocks)
    assert emu.calls_to("chat.postMessage")[1].args["blocks"] == blocks and form["ok"]
