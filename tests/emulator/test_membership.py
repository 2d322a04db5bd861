"""Membership, the Messages tab and archived channels: what a bot token may touch, and Slack's errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import SlackEmulator

from .conftest import MakeEmu, error_of, manifest

# Each call a bot may only make in a conversation it is in, given a channel id and a message ts there.
MEMBER_ONLY: dict[str, Callable[[WebClient, str, str], Any]] = {
    "conversations.history": lambda c, ch, _ts: c.conversations_history(channel=ch),
    "conversations.replies": lambda c, ch, ts: c.conversations_replies(channel=ch, ts=ts),
    "chat.getPermalink": lambda c, ch, ts: c.chat_getPermalink(channel=ch, message_ts=ts),
    "chat.update": lambda c, ch, ts: c.chat_update(channel=ch, ts=ts, text="x"),
    "pins.add": lambda c, ch, ts: c.pins_add(channel=ch, timestamp=ts),
    "conversations.setTopic": lambda c, ch, _ts: c.conversations_setTopic(channel=ch, topic="x"),
    "conversations.invite": lambda c, ch, _ts: c.conversations_invite(channel=ch, users="U2"),
    "conversations.archive": lambda c, ch, _ts: c.conversations_archive(channel=ch),
}


@pytest.mark.parametrize("method", sorted(MEMBER_ONLY))
def test_member_only_calls_outside_the_channel(client: WebClient, emu: SlackEmulator, method: str) -> None:
    """not_in_channel in a public channel; a private one the bot is not in does not exist for it."""
    public = emu.add_channel(f"pub-{method.replace('.', '-').lower()}", members={"U1"}, bot_member=False)
    private = emu.add_channel(
        f"priv-{method.replace('.', '-').lower()}", private=True, members={"U1"}, bot_member=False
    )
    for channel, error in ((public, "not_in_channel"), (private, "channel_not_found")):
        ts = emu.post_as_user(channel, "U1", "hello")
        with pytest.raises(SlackApiError) as exc:
            MEMBER_ONLY[method](client, channel, ts)
        assert error_of(exc) == error, (method, channel)


def test_private_channels_the_bot_is_not_in_are_invisible(client: WebClient, emu: SlackEmulator) -> None:
    secret = emu.add_channel("secret", private=True, members={"U1"}, bot_member=False)
    for call in (
        lambda: client.conversations_info(channel=secret),
        lambda: client.conversations_members(channel=secret),
        lambda: client.chat_postMessage(channel=secret, text="x"),
        lambda: client.chat_postMessage(channel="#secret", text="x"),
    ):
        with pytest.raises(SlackApiError) as exc:
            call()
        assert error_of(exc) == "channel_not_found"
    names = [c["name"] for c in client.conversations_list(types="private_channel")["channels"]]
    assert "secret" not in names


def test_post_to_public_channel_needs_membership_or_chat_write_public(
    client: WebClient, emu: SlackEmulator, make_emu: MakeEmu
) -> None:
    public = emu.add_channel("town-square", bot_member=False)
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=public, text="hi")
    assert error_of(exc) == "not_in_channel"
    other, with_public = make_emu(manifest(add=("chat:write.public",)))
    square = other.add_channel("town-square", bot_member=False)
    assert with_public.chat_postMessage(channel=square, text="hi")["ok"]
    assert "UBOT" not in other.channels[square].members


def test_ids_only_outside_posting(client: WebClient, emu: SlackEmulator) -> None:
    """Only chat.postMessage/postEphemeral take a #name or a user ID; other methods want the ID."""
    cid = emu.add_channel("named")
    ts = client.chat_postMessage(channel="#named", text="by name")["ts"]
    with pytest.raises(SlackApiError) as exc:
        client.conversations_history(channel="named")
    assert error_of(exc) == "channel_not_found"
    with pytest.raises(SlackApiError) as exc:
        client.chat_update(channel="U1", ts=ts, text="x")
    assert error_of(exc) == "channel_not_found"
    assert client.conversations_history(channel=cid)["messages"][0]["ts"] == ts


def test_dm_needs_the_messages_tab(make_emu: MakeEmu, client: WebClient, emu: SlackEmulator) -> None:
    _, no_tab = make_emu(manifest(messages_tab_enabled=False, messages_tab_read_only_enabled=False))
    for call in (
        lambda c: c.chat_postMessage(channel="U3", text="psst"),
        lambda c: c.chat_postEphemeral(channel="U3", user="U3", text="psst"),
    ):
        with pytest.raises(SlackApiError) as exc:
            call(no_tab)
        assert error_of(exc) == "messages_tab_disabled"
    # The bot's manifest enables the tab read-only, which is enough to write to people.
    assert emu.state.feature("app_home", "messages_tab_read_only_enabled") is True
    dm = client.chat_postMessage(channel="U3", text="psst")["channel"]
    assert dm.startswith("D") and client.chat_postMessage(channel=dm, text="again")["ok"]


def test_home_tab_needs_home_tab_enabled(make_emu: MakeEmu) -> None:
    home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]}
    _, without_home = make_emu(manifest(home_tab_enabled=False))  # the bot's own manifest enables it
    with pytest.raises(SlackApiError) as exc:
        without_home.views_publish(user_id="U1", view=home)
    assert error_of(exc) == "not_enabled"
    _, with_home = make_emu(manifest(home_tab_enabled=True))
    assert with_home.views_publish(user_id="U1", view=home)["view"]["type"] == "home"


def test_archived_channels(client: WebClient, emu: SlackEmulator) -> None:
    cid = emu.add_channel("old-incident", members={"U1"})
    client.conversations_archive(channel=cid)
    with pytest.raises(SlackApiError) as exc:
        client.conversations_archive(channel=cid)
    assert error_of(exc) == "already_archived"
    for call in (
        lambda: client.chat_postMessage(channel=cid, text="x"),
        lambda: client.conversations_setTopic(channel=cid, topic="x"),
        lambda: client.conversations_join(channel=cid),
    ):
        with pytest.raises(SlackApiError) as exc:
            call()
        assert error_of(exc) == "is_archived"
    with pytest.raises(SlackApiError) as exc:
        client.conversations_create(name="old-incident")
    assert error_of(exc) == "name_taken"


def test_general_cannot_be_archived(client: WebClient, emu: SlackEmulator) -> None:
    general = emu.general_channel_id
    assert client.conversations_info(channel=general)["channel"]["is_general"] is True
    with pytest.raises(SlackApiError) as exc:
        client.conversations_archive(channel=general)
    assert error_of(exc) == "cant_archive_general"
    assert not emu.channels[general].archived
    other = emu.add_channel("not-general")
    assert client.conversations_info(channel=other)["channel"]["is_general"] is False
