"""Acknowledgement latency under concurrent slash commands: Slack gives up on a command after 3 s."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from benchmarks.harness import command_request, percentile, post
from benchmarks.report import Finding, Section, table, verdict
from benchmarks.served import ServedApp
from bot.emulator import SlackEmulator

CONCURRENCY = (1, 10, 50, 100)
LATENCIES = (0.0, 2.0)
P99_TARGET, MAX_TARGET = 0.050, 3.0


@dataclass(frozen=True)
class Level:
    """Acks measured at one concurrency and one Web API latency."""

    latency: float
    concurrency: int
    times: list[float]
    failures: int


def announced(emu: SlackEmulator, announce: str) -> int:
    """Messages in the announce channel: one per finished declare, so a progress counter."""
    return len(emu.channels[announce].messages)


def wait_for(emu: SlackEmulator, announce: str, expected: int, timeout: float) -> bool:
    """Poll (bounded) until `expected` announcements exist."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if announced(emu, announce) >= expected:
            return True
        time.sleep(0.05)
    return False


def run_level(emu: SlackEmulator, app: ServedApp, latency: float, concurrency: int, samples: int) -> Level:
    """`concurrency` clients released together, each sending its share of declares back to back."""
    per_client = max(1, math.ceil(samples / concurrency))
    requests = [
        [command_request(emu, f"declare sev3 Ack c{concurrency} n{i}") for i in range(per_client)]
        for _ in range(concurrency)
    ]
    times: list[float] = []
    failures = 0
    lock = threading.Lock()
    barrier = threading.Barrier(concurrency)

    def client(mine: list[tuple[bytes, dict[str, str]]]) -> None:
        nonlocal failures
        barrier.wait()
        for body, headers in mine:
            try:
                status, elapsed = post(app.url, body, headers, timeout=10)
            except OSError:
                status, elapsed = 0, 10.0
            with lock:
                times.append(elapsed)
                failures += status != 200

    threads = [threading.Thread(target=client, args=(r,)) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return Level(latency, concurrency, times, failures)


def measure(
    emu: SlackEmulator,
    app: ServedApp,
    announce: str,
    samples: int,
    concurrency_levels: tuple[int, ...] = CONCURRENCY,
    latencies: tuple[float, ...] = LATENCIES,
    floor: Level | None = None,
) -> tuple[Section, int]:
    """All levels; between levels the latency is dropped until the backlog is done. Returns declares sent."""
    levels: list[Level] = []
    sent = announced(emu, announce)
    for latency in latencies:
        for concurrency in concurrency_levels:
            emu.set_latency(latency)
            level = run_level(emu, app, latency, concurrency, max(samples, concurrency))
            levels.append(level)
            sent += len(level.times) - level.failures
            emu.set_latency(0)
            wait_for(emu, announce, sent, timeout=180)
    rows = [
        [
            f"{lv.latency:.0f} s",
            str(lv.concurrency),
            str(len(lv.times)),
            *(f"{percentile(lv.times, p) * 1000:.1f}" for p in (50, 90, 99)),
            f"{max(lv.times) * 1000:.1f}",
            str(lv.failures),
        ]
        for lv in levels
    ]
    floor_note = ""
    if floor is not None:
        floor_p99 = percentile(floor.times, 99) * 1000
        rows.append(
            [
                "floor: a do-nothing app",
                str(floor.concurrency),
                str(len(floor.times)),
                *(f"{percentile(floor.times, p) * 1000:.1f}" for p in (50, 90, 99)),
                f"{max(floor.times) * 1000:.1f}",
                str(floor.failures),
            ]
        )
        floor_note = (
            f" On this machine a do-nothing WSGI app under the same waitress, hit by the same load "
            f"generator, answers {floor.concurrency} concurrent requests with p99 {floor_p99:.0f} ms: the "
            f"server and the load generator alone use {floor_p99 / (P99_TARGET * 1000):.0%} of the target."
        )
    worst = levels[-1]  # highest concurrency at the highest latency
    # The cheapest single ack (no concurrent background work) estimates one ack's cost.
    p50_single = min(percentile(lv.times, 50) for lv in levels if lv.concurrency == 1)
    p99, slowest = percentile(worst.times, 99), max(max(lv.times) for lv in levels)
    findings = [
        Finding(
            f"ack p99, {worst.concurrency} concurrent, {worst.latency:.0f} s Web API latency",
            f"≤ {P99_TARGET * 1000:.0f} ms",
            f"{p99 * 1000:.0f} ms",
            verdict(p99 <= P99_TARGET and worst.failures == 0),
            f"one declare's ack costs about {p50_single * 1000:.1f} ms (Bolt request parsing, signature "
            "check, listener, WSGI under waitress, and the wait for the incident's commit: a declare is "
            "committed before it is acknowledged so that a crash cannot lose an acknowledged incident; a "
            "burst shares one transaction per batch, `bot/pipeline/group_commit.py`). Acks of a burst are "
            "serialised by "
            f"the GIL of the one process: 100 simultaneous arrivals need ≈ {100 * p50_single * 1000:.0f} ms "
            "before the last is answered, and background work of earlier declares competes for the same "
            "interpreter (at 0 s Web API latency that work runs flat out, which is why those rows are "
            "slower: the commit's thread waits for the GIL between its database round trips)." + floor_note,
            "on a host with cores to spare, run several `incidentbot serve` processes (replicas share "
            "the database safely) so a burst spreads across cores; on this 2-core machine that does not "
            "help, because the load generator is the bottleneck (checked by hand: two do-nothing servers "
            "sharing the port with SO_REUSEPORT answered a 100-request burst with p99 35-39 ms, one with "
            "32-33 ms). Within one process the bot's part could shrink "
            "only by answering before Bolt's middleware chain, or by acknowledging a declare before its "
            "commit, which is what lost declares to a crash.",
        ),
        Finding(
            "slowest ack, any level",
            f"≤ {MAX_TARGET:.0f} s",
            f"{slowest * 1000:.0f} ms",
            verdict(slowest <= MAX_TARGET and all(lv.failures == 0 for lv in levels)),
            "a burst queues behind waitress's 16 threads, the GIL and (for declares) the group commit.",
            "as above: more processes on a bigger host.",
        ),
    ]
    method = (
        "The app runs alone in a child process (`python -m benchmarks.served`: `create_app` + the "
        "production waitress server + the ticker, as `incidentbot serve`), talking to the emulator in the "
        "benchmark process. At each level, N client threads are released together by a barrier and each "
        "sends its share of signed `/incident declare` commands back to back, each on a fresh loopback "
        "connection (as Slack does); only the HTTP exchange is timed (the signed body is built before). "
        "After a level the latency is set to 0 and the run waits until every declare has been announced, so "
        "levels do not share a backlog. The floor row is the busiest level sent to a do-nothing WSGI app "
        "(reads the body, answers 200) under the same waitress settings in its own child process. "
        "Times in ms."
    )
    section = Section(
        "Acknowledgement latency",
        method,
        tables=[table(["Web API latency", "concurrent", "acks", "p50", "p90", "p99", "max", "failed"], rows)],
        findings=findings,
        notes=[
            "Load generator and emulator share the benchmark process; the bot's process is measured "
            "alone, but on 2 cores the three compete for CPU, so the figures are pessimistic for a "
            "dedicated host."
        ],
    )
    return section, sent
