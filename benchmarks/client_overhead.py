"""The bot's Web API client against a bare HTTP request to the same endpoint, interleaved to cancel noise."""

from __future__ import annotations

import http.client
import time
from urllib.parse import urlencode, urlsplit

from benchmarks.harness import median
from benchmarks.report import Finding, Section, table, verdict
from bot.emulator import SlackEmulator
from bot.slack.client import make_web_client

METHOD = "auth.test"
RATIO_TARGET = 2.0


def measure(emu: SlackEmulator, rounds: int, per_block: int) -> Section:
    """Alternate blocks of raw and client calls; compare the medians of per-call block times."""
    client = make_web_client(emu.bot_token, emu.api_url)
    parts = urlsplit(emu.api_url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    path = f"{parts.path}{METHOD}"
    body = urlencode({}).encode()
    headers = {
        "Authorization": f"Bearer {emu.bot_token}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    reconnects = 0

    def raw() -> None:
        nonlocal reconnects
        if conn.sock is None:
            reconnects += 1
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"raw {METHOD} answered {response.status}")

    def bot() -> None:
        client.api_call(METHOD, params={})

    raw_times: list[float] = []
    bot_times: list[float] = []
    for fn in (raw, bot):  # warm up both paths
        for _ in range(5):
            fn()
    try:
        for r in range(rounds):
            order = [(raw, raw_times), (bot, bot_times)]
            for fn, sink in order if r % 2 == 0 else reversed(order):
                started = time.perf_counter()
                for _ in range(per_block):
                    fn()
                sink.append((time.perf_counter() - started) / per_block)
    finally:
        conn.close()
    raw_call, bot_call = median(raw_times), median(bot_times)
    ratio = bot_call / raw_call
    kept_alive = reconnects < (rounds * per_block) // 2
    rows = [
        ["raw http.client (one HTTPConnection reused)", f"{raw_call * 1e6:.0f} µs"],
        ["bot client (`make_web_client`, `api_call`)", f"{bot_call * 1e6:.0f} µs"],
        ["ratio", f"{ratio:.2f}"],
        ["raw connection actually kept alive", "yes" if kept_alive else "no (the emulator answers HTTP/1.0)"],
    ]
    ok = ratio <= RATIO_TARGET
    finding = Finding(
        "Web API client overhead (loopback)",
        f"≤ {RATIO_TARGET}× a raw request",
        f"{bot_call * 1e6:.0f} µs vs {raw_call * 1e6:.0f} µs = {ratio:.2f}×",
        verdict(ok),
        ""
        if ok
        else (
            "slack_sdk's WebClient opens a new urllib connection per call (no keep-alive), builds a "
            "Request with its headers and user agent, and wraps the answer in a SlackResponse."
        ),
        ""
        if ok
        else (
            "a client with a persistent connection pool; slack_sdk accepts no custom transport, so this "
            "means a thin adapter over http.client/urllib3 behind the same retry policy. On the real "
            "Slack (TLS, ~50-200 ms per call) this overhead is a small fraction of each call."
        ),
    )
    method = (
        f"`{METHOD}` on the emulator, {rounds} rounds of {per_block} calls per side, raw and client blocks "
        "alternating (order swapped every round) so drift and noise hit both; the figure is the median "
        "per-call time of the blocks. No latency knob."
    )
    notes = []
    if not kept_alive:
        notes.append(
            "The emulator's server speaks HTTP/1.0 and closes every connection, so the 'reused' raw "
            "connection reconnects on each call too: the ratio compares per-call client work, not "
            "connection reuse. Against Slack, keep-alive would also save a TLS handshake per call."
        )
    return Section(
        "Web API client overhead",
        method,
        tables=[table(["per call", "value"], rows)],
        findings=[finding],
        notes=notes,
    )
