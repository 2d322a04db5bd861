"""conversations.rename as Slack documents it: names, membership, who may rename, scopes and the tier."""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import SlackEmulator
from bot.emulator.ratelimits import METHOD_TIERS

from .conftest import MakeEmu, error_of, manifest


def created(client: WebClient, name: str, *, private: bool = False) -> str:
    return str(client.conversations_create(name=name, is_private=private)["channel"]["id"])


def test_rename_keeps_the_id_and_answers_with_the_channel(client: WebClient, emu: SlackEmulator) -> None:
    cid = created(client, "inc-1-checkout")
    answer = client.conversations_rename(channel=cid, name="inc-1-checkout-eu")
    assert answer["channel"]["id"] == cid and answer["channel"]["name"] == "inc-1-checkout-eu"
    assert emu.channels[cid].name == "inc-1-checkout-eu"
    assert client.conversations_info(channel=cid)["channel"]["name"] == "inc-1-checkout-eu"
    # The old name is free again; the new one is taken (by the channel itself too).
    assert created(client, "inc-1-checkout") != cid
    for name in ("inc-1-checkout", "inc-1-checkout-eu"):
        with pytest.raises(SlackApiError) as exc:
            client.conversations_rename(channel=cid, name=name)
        assert error_of(exc) == "name_taken"


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("x" * 81, "invalid_name_maxlength"),
        ("Has Caps", "invalid_name_specials"),
        ("--", "invalid_name_punctuation"),
    ],
)
def test_names_follow_slacks_rules(client: WebClient, name: str, error: str) -> None:
    cid = created(client, "inc-2-db")
    with pytest.raises(SlackApiError) as exc:
        client.conversations_rename(channel=cid, name=name)
    assert error_of(exc) == error


def test_missing_arguments(client: WebClient) -> None:
    cid = created(client, "inc-3-db")
    with pytest.raises(SlackApiError) as exc:
        client.api_call("conversations.rename", params={"channel": cid})
    assert error_of(exc) == "missing_argument"


def test_only_members_and_the_creator_may_rename(client: WebClient, emu: SlackEmulator) -> None:
    theirs = emu.add_channel("general-chat", members={"U1"})  # created by U1, the bot a member
    with pytest.raises(SlackApiError) as exc:
        client.conversations_rename(channel=theirs, name="renamed")
    assert error_of(exc) == "not_authorized"
    outside = emu.add_channel("outside", members={"U1"}, bot_member=False)
    with pytest.raises(SlackApiError) as exc:
        client.conversations_rename(channel=outside, name="renamed")
    assert error_of(exc) == "not_in_channel"
    hidden = emu.add_channel("hidden", private=True, members={"U1"}, bot_member=False)
    with pytest.raises(SlackApiError) as exc:
        client.conversations_rename(channel=hidden, name="renamed")
    assert error_of(exc) == "channel_not_found"
    dm = client.conversations_open(users="U1")["channel"]["id"]
    with pytest.raises(SlackApiError) as exc:
        client.conversations_rename(channel=dm, name="renamed")
    assert error_of(exc) == "method_not_supported_for_channel_type"


def test_an_archived_channel_is_not_renamed(client: WebClient) -> None:
    cid = created(client, "inc-4-old")
    client.conversations_archive(channel=cid)
    with pytest.raises(SlackApiError) as exc:
        client.conversations_rename(channel=cid, name="inc-4-older")
    assert error_of(exc) == "is_archived"


def test_scopes_follow_the_conversation_type(make_emu: MakeEmu) -> None:
    _, public_only = make_emu(manifest(["channels:manage", "chat:write"]))
    public = created(public_only, "inc-5-public")
    assert public_only.conversations_rename(channel=public, name="inc-5-pub")["ok"]
    _, private_only = make_emu(manifest(["groups:write", "chat:write"]))
    private = created(private_only, "inc-6-private", private=True)
    assert private_only.conversations_rename(channel=private, name="inc-6-priv")["ok"]


def test_a_private_room_needs_groups_write(make_emu: MakeEmu) -> None:
    emu, client = make_emu(manifest(["channels:manage", "chat:write"]))
    cid = emu.state.add_channel("inc-8-private", private=True, members={emu.state.bot_user_id}).id
    with pytest.raises(SlackApiError) as exc:
        client.conversations_rename(channel=cid, name="inc-8-priv")
    assert error_of(exc) == "missing_scope"
    assert exc.value.response["needed"] == "groups:write"


def test_rename_is_tier_2() -> None:
    assert METHOD_TIERS["conversations.rename"] == 2
