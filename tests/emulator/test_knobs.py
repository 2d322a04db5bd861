"""Fault and latency injection, as seen by the real SDK client and its retry handlers."""

from __future__ import annotations

import threading
import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.emulator import SlackEmulator


def test_server_error_then_recovery(client: WebClient, emu: SlackEmulator) -> None:
    emu.fail("chat.postMessage", status=503, times=1)
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel=emu.general_channel_id, text="x")
    assert exc.value.response.status_code == 503
    client.chat_postMessage(channel=emu.general_channel_id, text="x")
    assert [c.status for c in emu.calls_to("chat.postMessage")] == [503, 200]


def test_error_knob_and_clear(client: WebClient, emu: SlackEmulator) -> None:
    emu.error("auth.test", error="account_inactive", times=None)
    for _ in range(2):
        with pytest.raises(SlackApiError) as exc:
            client.auth_test()
        assert exc.value.response.status_code == 200 and exc.value.response["error"] == "account_inactive"
    emu.clear_faults()
    assert client.auth_test()["ok"] is True


def test_rate_limit_header_and_sdk_retry(emu: SlackEmulator) -> None:
    emu.rate_limit("auth.test", retry_after=0, times=1)
    plain = WebClient(token="xoxb-emulator", base_url=emu.api_url)
    with pytest.raises(SlackApiError) as exc:
        plain.auth_test()
    assert exc.value.response.status_code == 429
    assert exc.value.response.headers["Retry-After"] == "0"
    assert exc.value.response["error"] == "ratelimited"
    emu.rate_limit("auth.test", retry_after=0, times=1)
    retrying = WebClient(
        token="xoxb-emulator",
        base_url=emu.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    assert retrying.auth_test()["ok"] is True
    assert [c.status for c in emu.calls_to("auth.test")] == [429, 429, 200]


def test_latency_is_per_method_and_non_blocking(client: WebClient, emu: SlackEmulator) -> None:
    emu.set_latency(0.4, method="conversations.list")
    slow: dict[str, float] = {}

    def call_slow() -> None:
        start = time.monotonic()
        client.conversations_list()
        slow["elapsed"] = time.monotonic() - start

    thread = threading.Thread(target=call_slow)
    thread.start()
    time.sleep(0.05)
    start = time.monotonic()
    client.auth_test()
    fast = time.monotonic() - start
    thread.join()
    assert slow["elapsed"] >= 0.35
    assert fast < 0.2
    methods = [c.method for c in emu.calls]
    assert methods == ["conversations.list", "auth.test"]  # arrival order, not completion order
