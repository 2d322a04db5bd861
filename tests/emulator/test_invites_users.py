"""All-or-nothing invites, `force`, and deactivated or guest users as Slack reports and refuses them."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import SlackEmulator

from .conftest import error_of


@pytest.fixture
def room(client: WebClient, emu: SlackEmulator) -> str:
    """A channel the bot created, with U1 in it, and a workspace with a gone user and two guests."""
    emu.add_user("UGONE", "gone", deleted=True)
    emu.add_user("UGUEST", "guest", restricted=True)
    emu.add_user("USINGLE", "single", ultra_restricted=True)
    cid = str(client.conversations_create(name="inc-invites")["channel"]["id"])
    client.conversations_invite(channel=cid, users="U1")
    return cid


def test_one_refusal_invites_nobody(client: WebClient, emu: SlackEmulator, room: str) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.conversations_invite(channel=room, users="U2,U1,U3")
    assert error_of(exc) == "already_in_channel"
    assert exc.value.response["errors"] == [{"user": "U1", "ok": False, "error": "already_in_channel"}]
    assert emu.channels[room].members == {"UBOT", "U1"}


def test_every_refusal_is_listed(client: WebClient, emu: SlackEmulator, room: str) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.conversations_invite(channel=room, users="UBOT,UNOPE,UGUEST,USINGLE,U2")
    assert error_of(exc) == "cant_invite_self"
    assert [(e["user"], e["error"]) for e in exc.value.response["errors"]] == [
        ("UBOT", "cant_invite_self"),
        ("UNOPE", "user_not_found"),
        ("UGUEST", "user_is_restricted"),
        ("USINGLE", "ura_max_channels"),
    ]
    assert emu.channels[room].members == {"UBOT", "U1"}


def test_force_invites_the_valid_ones_and_reports_the_rest(
    client: WebClient, emu: SlackEmulator, room: str
) -> None:
    response = client.conversations_invite(channel=room, users="U1,U2,UNOPE,U3", force=True)
    assert response["ok"] is True
    assert response["errors"] == [
        {"user": "U1", "ok": False, "error": "already_in_channel"},
        {"user": "UNOPE", "ok": False, "error": "user_not_found"},
    ]
    assert emu.channels[room].members == {"UBOT", "U1", "U2", "U3"}
    with pytest.raises(SlackApiError) as exc:  # nothing valid left: still an error
        client.conversations_invite(channel=room, users="U2,U3", force=True)
    assert error_of(exc) == "already_in_channel"


def test_deactivated_users_fail_silently(client: WebClient, emu: SlackEmulator, room: str) -> None:
    """Slack's docs: removed users make the call fail, but everyone else is invited."""
    with pytest.raises(SlackApiError) as exc:
        client.conversations_invite(channel=room, users="UGONE,U2")
    assert error_of(exc) == "cant_invite"
    assert exc.value.response["errors"] == [{"user": "UGONE", "ok": False, "error": "cant_invite"}]
    assert emu.channels[room].members == {"UBOT", "U1", "U2"}


@pytest.mark.usefixtures("room")
def test_users_info_reports_deactivated_and_guest_accounts(client: WebClient) -> None:
    gone = client.users_info(user="UGONE")["user"]
    assert gone["deleted"] is True and gone["is_restricted"] is False
    guest = client.users_info(user="UGUEST")["user"]
    assert (guest["is_restricted"], guest["is_ultra_restricted"]) == (True, False)
    single = client.users_info(user="USINGLE")["user"]
    assert (single["is_restricted"], single["is_ultra_restricted"]) == (True, True)
    assert client.users_info(user="U1")["user"]["deleted"] is False


@pytest.mark.usefixtures("room")
def test_messages_to_deactivated_users(client: WebClient, emu: SlackEmulator) -> None:
    """Posting to a deactivated user succeeds (python-slack-sdk#1156); conversations.open does not."""
    posted = client.chat_postMessage(channel="UGONE", text="are you there?")
    assert posted["ok"] and emu.channels[posted["channel"]].messages[-1].text == "are you there?"
    with pytest.raises(SlackApiError) as exc:
        client.conversations_open(users="UGONE")
    assert error_of(exc) == "user_disabled"
