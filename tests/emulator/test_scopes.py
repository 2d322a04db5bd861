"""Scopes come from the installed manifest: missing_scope with needed/provided, per conversation type."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import SlackEmulator
from bot.emulator.scopes import METHOD_SCOPES
from bot.slack.manifest import BOT_SCOPES

from .conftest import MakeEmu, error_of, manifest

METHODS_JSON = Path(__file__).resolve().parents[2].parent / "shared" / "slack" / "methods.json"


def test_method_without_any_accepted_scope_is_refused(make_emu: MakeEmu) -> None:
    emu, client = make_emu(manifest(["chat:write", "commands"]))
    with pytest.raises(SlackApiError) as exc:
        client.conversations_create(name="inc-1")
    response = exc.value.response
    assert error_of(exc) == "missing_scope"
    assert response["needed"] == "channels:manage,channels:write"
    assert response["provided"] == "chat:write,commands"
    assert response.headers["x-oauth-scopes"] == "chat:write,commands"
    assert emu.channel_by_name("inc-1") is None


def test_private_channel_needs_the_groups_scope_even_with_the_channels_one(make_emu: MakeEmu) -> None:
    """Slack answers `needed: groups:history` to a token that only has channels:history."""
    emu, client = make_emu(manifest(["channels:history", "chat:write"]))
    public = emu.add_channel("public-room")
    private = emu.add_channel("private-room", private=True)
    assert client.conversations_history(channel=public)["ok"]
    with pytest.raises(SlackApiError) as exc:
        client.conversations_history(channel=private)
    assert error_of(exc) == "missing_scope" and exc.value.response["needed"] == "groups:history"
    with pytest.raises(SlackApiError) as exc:
        client.conversations_list(types="public_channel,private_channel")
    assert exc.value.response["needed"] == "channels:read,groups:read"


def test_creating_a_private_channel_needs_groups_write(make_emu: MakeEmu) -> None:
    emu, client = make_emu(manifest(["channels:manage"]))
    client.conversations_create(name="public-ok")
    with pytest.raises(SlackApiError) as exc:
        client.conversations_create(name="private-no", is_private=True)
    assert exc.value.response["needed"] == "groups:write"


def test_methods_without_scopes_need_none(make_emu: MakeEmu) -> None:
    emu, client = make_emu(manifest([]))
    assert client.auth_test()["ok"]
    assert client.api_call("auth.test").headers["x-oauth-scopes"] == ""
    cid = emu.add_channel("anything")
    ts = emu.post_as_user(cid, "U1", "hello")
    assert client.chat_getPermalink(channel=cid, message_ts=ts)["ok"]
    assert client.views_open(trigger_id=emu.new_trigger_id(), view=_modal())["ok"]


def test_granted_and_accepted_scopes_are_reported_in_headers(client: WebClient) -> None:
    auth = client.auth_test()
    assert auth.headers["x-oauth-scopes"] == ",".join(BOT_SCOPES)
    listing = client.api_call("conversations.list")
    assert listing.headers["x-accepted-oauth-scopes"] == "channels:read,groups:read,im:read,mpim:read"


def test_users_info_leaves_email_out_without_users_read_email(make_emu: MakeEmu, client: WebClient) -> None:
    assert "email" not in client.users_info(user="U1")["user"]["profile"]
    _, with_email = make_emu(manifest(add=("users:read.email",)))
    assert with_email.users_info(user="U1")["user"]["profile"]["email"] == "user1@emulator.invalid"


def test_scope_table_matches_slacks_method_reference() -> None:
    """Every method in shared/slack/methods.json accepts exactly the bot scopes Slack lists for it."""
    if not METHODS_JSON.is_file():
        pytest.skip("shared/slack/methods.json is not beside the repository")
    listed = {m["method"]: m.get("bot_scopes") or [] for m in json.loads(METHODS_JSON.read_text())["methods"]}
    for method, accepted in METHOD_SCOPES.items():
        if method in listed:
            assert list(accepted) == listed[method], method
    for method, scopes in listed.items():
        if scopes and method in METHOD_SCOPES:
            assert tuple(scopes) == METHOD_SCOPES[method]


def _modal() -> dict[str, object]:
    """The smallest valid modal."""
    return {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []}


def test_default_manifest_grants_what_the_bot_declares(emu: SlackEmulator) -> None:
    assert emu.state.granted_scopes() == list(BOT_SCOPES)


def test_archiving_needs_the_scope_of_the_channels_type(make_emu: MakeEmu) -> None:
    """conversations.archive: channels:manage archives a public room; a private one needs groups:write."""
    emu, client = make_emu(manifest(["channels:manage"]))
    public = emu.add_channel("public-done")
    private = emu.add_channel("private-done", private=True)
    assert client.conversations_archive(channel=public)["ok"]
    with pytest.raises(SlackApiError) as exc:
        client.conversations_archive(channel=private)
    assert error_of(exc) == "missing_scope" and exc.value.response["needed"] == "groups:write"
    assert not emu.channels[private].archived
    own, bot = make_emu(manifest())  # the bot's own manifest archives both kinds
    for private_room in (False, True):
        room = own.add_channel(f"done-{private_room}".lower(), private=private_room)
        assert bot.conversations_archive(channel=room)["ok"] and own.channels[room].archived
