"""Realistic rate limits (opt-in), token failures and trigger_id expiry."""

from __future__ import annotations

import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import SlackEmulator

from .conftest import MakeEmu, error_of


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(emu: SlackEmulator) -> Clock:
    """Realistic limits on, timed by a hand-moved clock."""
    fake = Clock()
    emu.rate_limiter.clock = fake
    emu.realistic_rate_limits(True)
    return fake


def test_rate_limits_are_off_by_default(client: WebClient, emu: SlackEmulator) -> None:
    for n in range(25):
        client.conversations_create(name=f"burst-{n}")
    assert emu.rate_limited == {}


def test_tier_2_allows_twenty_a_minute(client: WebClient, emu: SlackEmulator, clock: Clock) -> None:
    for n in range(20):
        client.conversations_create(name=f"t2-{n}")
    with pytest.raises(SlackApiError) as exc:
        client.conversations_create(name="t2-over")
    response = exc.value.response
    assert response.status_code == 429 and error_of(exc) == "ratelimited"
    assert response.headers["Retry-After"] == "60"
    clock.now += 30
    with pytest.raises(SlackApiError) as exc:
        client.conversations_create(name="t2-still-over")
    assert exc.value.response.headers["Retry-After"] == "30"
    clock.now += 30
    assert client.conversations_create(name="t2-again")["ok"]
    assert emu.rate_limited == {"conversations.create": 2}
    assert client.conversations_info(channel=emu.general_channel_id)["ok"]  # another method, another window


def test_post_message_is_about_one_per_second_per_channel(
    client: WebClient, emu: SlackEmulator, clock: Clock
) -> None:
    busy, quiet = emu.add_channel("busy-room"), emu.add_channel("quiet-room")
    for _ in range(3):
        client.chat_postMessage(channel=busy, text="burst")
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=busy, text="too fast")
    assert exc.value.response.status_code == 429 and exc.value.response.headers["Retry-After"] == "3"
    assert client.chat_postMessage(channel=quiet, text="other channel")["ok"]
    clock.now += 1
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel=busy, text="still too fast")
    clock.now += 2
    assert client.chat_postMessage(channel=busy, text="one a second again")["ok"]
    assert emu.rate_limited["chat.postMessage"] == 2


def test_constructor_flag_and_turning_it_off(make_emu: MakeEmu) -> None:
    emu, client = make_emu(realistic_rate_limits=True)
    for _ in range(20):
        client.usergroups_list()
    with pytest.raises(SlackApiError):
        client.usergroups_list()
    emu.realistic_rate_limits(False)
    assert client.usergroups_list()["ok"]


def test_token_failures(emu: SlackEmulator, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        WebClient(token="xoxb-not-ours", base_url=emu.api_url).auth_test()
    assert error_of(exc) == "invalid_auth"
    emu.revoke_token()
    with pytest.raises(SlackApiError) as exc:
        client.auth_test()
    assert error_of(exc) == "token_revoked"
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=emu.general_channel_id, text="x")
    assert error_of(exc) == "token_revoked"


def test_trigger_ids_last_three_seconds_and_work_once(client: WebClient, emu: SlackEmulator) -> None:
    assert emu.trigger_ttl == 3.0
    view = {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []}
    fresh = emu.new_trigger_id()
    client.views_open(trigger_id=fresh, view=view)
    with pytest.raises(SlackApiError) as exc:
        client.views_open(trigger_id=fresh, view=view)
    assert error_of(exc) == "exchanged_trigger_id"
    emu.trigger_ttl = 0.05
    stale = emu.new_trigger_id()
    time.sleep(0.1)
    with pytest.raises(SlackApiError) as exc:
        client.views_open(trigger_id=stale, view=view)
    assert error_of(exc) == "expired_trigger_id"
