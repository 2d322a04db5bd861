"""Cursor pagination on every list method: `limit`, a default page, fewer than asked, opaque cursors."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import SlackEmulator

from .conftest import error_of


def walk(client: WebClient, method: str, key: str, **kwargs: Any) -> list[list[Any]]:
    """Every page of a listing, following next_cursor to the end."""
    pages: list[list[Any]] = []
    cursor = ""
    while True:
        response = client.api_call(method, params={**kwargs, **({"cursor": cursor} if cursor else {})})
        pages.append(list(response[key]))
        cursor = response["response_metadata"]["next_cursor"]
        if not cursor:
            return pages


@pytest.fixture
def busy(emu: SlackEmulator) -> str:
    """A channel with 250 members, 250 messages and a 250-reply thread; 250 more users exist."""
    for n in range(250):
        emu.add_user(f"UM{n:03d}", f"member{n}")
    cid = emu.add_channel("busy", members={f"UM{n:03d}" for n in range(249)})
    parent = emu.post_as_user(cid, "U1", "parent")
    for n in range(249):
        emu.post_as_user(cid, "U1", f"m{n}")
        emu.post_as_user(cid, "U2", f"r{n}", thread_ts=parent)
    return cid


@pytest.mark.parametrize(
    ("method", "key", "args"),
    [
        ("conversations.members", "members", {}),
        ("conversations.history", "messages", {}),
        ("conversations.replies", "messages", {"ts": "PARENT"}),
        ("users.list", "members", {}),
    ],
)
def test_default_page_and_cap(
    client: WebClient, emu: SlackEmulator, busy: str, method: str, key: str, args: dict[str, Any]
) -> None:
    """100 items by default; with limit=1000 a page still carries at most 200 (Slack may return fewer)."""
    args = {k: (emu.channels[busy].messages[0].ts if v == "PARENT" else v) for k, v in args.items()}
    if method != "users.list":
        args["channel"] = busy
    first = client.api_call(method, params=args)
    assert len(first[key]) == 100 and first["response_metadata"]["next_cursor"]
    pages = walk(client, method, key, **args, limit=1000)
    assert [len(p) for p in pages][:1] == [200] and len(pages) >= 2
    everything = [item for page in pages for item in page]
    assert len(everything) == len({str(i) for i in everything}) >= 250


def test_conversations_list_pages(client: WebClient, emu: SlackEmulator) -> None:
    for n in range(7):
        emu.add_channel(f"room-{n}")
    pages = walk(client, "conversations.list", "channels", limit=3)
    assert [len(p) for p in pages] == [3, 3, 2]  # #general and seven rooms
    assert client.conversations_list(limit=3)["response_metadata"]["next_cursor"]


def test_has_more_and_small_limits(client: WebClient, busy: str) -> None:
    page = client.conversations_history(channel=busy, limit=5)
    assert len(page["messages"]) == 5 and page["has_more"] is True


def test_cursors_are_opaque_and_bound_to_their_listing(client: WebClient, busy: str) -> None:
    cursor = client.conversations_members(channel=busy, limit=10)["response_metadata"]["next_cursor"]
    assert "10" not in cursor and not cursor.startswith("offset")
    for bad in (cursor[:-3] + "xyz", "offset:10"):
        with pytest.raises(SlackApiError) as exc:
            client.conversations_members(channel=busy, cursor=bad)
        assert error_of(exc) == "invalid_cursor"
    with pytest.raises(SlackApiError) as exc:
        client.conversations_history(channel=busy, cursor=cursor)
    assert error_of(exc) == "invalid_cursor"


def test_usergroup_members_are_not_paginated(client: WebClient, emu: SlackEmulator) -> None:
    emu.add_usergroup("S1", "everyone", [f"U{n}" for n in range(1, 10)])
    response = client.usergroups_users_list(usergroup="S1")
    assert len(response["users"]) == 9 and "response_metadata" not in response.data


def test_page_cap_knob(client: WebClient, emu: SlackEmulator) -> None:
    emu.page_cap = 2
    for n in range(3):
        emu.add_channel(f"capped-{n}")
    assert [len(p) for p in walk(client, "conversations.list", "channels", limit=1000)] == [2, 2]


def test_replies_from_any_message_of_the_thread(client: WebClient, emu: SlackEmulator) -> None:
    """conversations.replies with a reply's ts answers the whole thread, parent first."""
    cid = emu.add_channel("threads")
    parent = emu.post_as_user(cid, "U1", "parent")
    reply = emu.post_as_user(cid, "U2", "reply", thread_ts=parent)
    texts = [m["text"] for m in client.conversations_replies(channel=cid, ts=reply)["messages"]]
    assert texts == ["parent", "reply"]
    assert [m["ts"] for m in client.conversations_replies(channel=cid, ts=reply, limit=1)["messages"]] == [
        parent
    ]
    with pytest.raises(SlackApiError) as exc:
        client.conversations_replies(channel=cid, ts="1.000001")
    assert error_of(exc) == "thread_not_found"
