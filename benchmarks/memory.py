"""Resident memory of the serving process after many declares, round by round, to catch leaks."""

from __future__ import annotations

import threading
import time

from benchmarks.ack_latency import announced, wait_for
from benchmarks.harness import command_request, post
from benchmarks.report import Finding, Section, table, verdict
from benchmarks.served import ServedApp
from bot.emulator import SlackEmulator

RSS_TARGET = 150 * 1024 * 1024
GROWTH_TOLERANCE = 0.02  # RSS may wobble by 2 % between rounds (allocator arenas)
BATCH, SENDERS = 40, 8


def declare_many(emu: SlackEmulator, app: ServedApp, announce: str, count: int, start: int) -> int:
    """Declare `count` incidents over HTTP in bounded batches, waiting for each batch to be announced."""
    done = announced(emu, announce)
    sent = 0
    while sent < count:
        batch = min(BATCH, count - sent)
        requests = [command_request(emu, f"declare sev4 Memory {start + sent + i}") for i in range(batch)]
        chunks = [requests[i::SENDERS] for i in range(SENDERS)]

        def send(chunk: list[tuple[bytes, dict[str, str]]]) -> None:
            for body, headers in chunk:
                post(app.url, body, headers)

        threads = [threading.Thread(target=send, args=(c,)) for c in chunks if c]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        sent += batch
        if not wait_for(emu, announce, done + sent, timeout=60):
            raise RuntimeError(
                f"declares not announced in time ({announced(emu, announce)} of {done + sent})"
            )
    return sent


def measure(
    emu: SlackEmulator, app: ServedApp, announce: str, total: int, rounds: int, backend: str = "SQLite"
) -> Section:
    """Declare `total` incidents in `rounds` equal rounds, sampling the child's RSS after each."""
    baseline = app.rss
    per_round = max(1, total // rounds)
    samples: list[tuple[int, int, float]] = []
    declared = 0
    for _ in range(rounds):
        started = time.perf_counter()
        declared += declare_many(emu, app, announce, per_round, declared)
        time.sleep(0.5)  # let the worker pool and the ticker go quiet before sampling
        samples.append((declared, app.rss, time.perf_counter() - started))
    mib = 1024 * 1024
    rows = [["before (app started, warm)", "0", f"{baseline / mib:.1f}", "-", "-"]]
    previous = baseline
    for count, rss, seconds in samples:
        rows.append(
            [
                "after round",
                str(count),
                f"{rss / mib:.1f}",
                f"{(rss - previous) / mib:+.1f}",
                f"{per_round / seconds:.0f}/s",
            ]
        )
        previous = rss
    final = samples[-1][1]
    # Steady state: the last round against the one before (earlier rounds fill caches and pools);
    # a leak shows as the same rise every round, a cache as rises that shrink to nothing.
    before_last = samples[-2] if len(samples) > 1 else (0, baseline, 0.0)
    growth = (final - before_last[1]) / before_last[1]
    per_incident = (final - before_last[1]) / max(1, samples[-1][0] - before_last[0])
    findings = [
        Finding(
            f"RSS after {declared:,} declares",
            f"≤ {RSS_TARGET // mib} MB",
            f"{final / mib:.1f} MiB",
            verdict(final <= RSS_TARGET),
            "" if final <= RSS_TARGET else "the serving process keeps per-incident state in memory.",
            "" if final <= RSS_TARGET else "find what holds incidents (tracemalloc snapshot diff per round).",
        ),
        Finding(
            "RSS growth, last round vs the one before",
            f"none (≤ {GROWTH_TOLERANCE:.0%} wobble)",
            f"{growth:+.1%} ({per_incident:.0f} B per declare)",
            verdict(growth <= GROWTH_TOLERANCE),
            "" if growth <= GROWTH_TOLERANCE else "RSS still rises in the last round (grows with incidents).",
            ""
            if growth <= GROWTH_TOLERANCE
            else "diff tracemalloc snapshots between rounds in the served process to find the holder.",
        ),
    ]
    method = (
        f"{declared:,} declares through the real HTTP path (signed slash command → Bolt → worker pool → "
        "job → emulator), sent to the app alone in a child process (`benchmarks.served`, as `incidentbot "
        f"serve`), in {rounds} rounds of {per_round:,}; batches of {BATCH} from {SENDERS} senders, each "
        "batch waited for until announced, so the worker queue stays bounded. RSS is VmRSS from "
        "/proc/<pid>/status of that process. The emulator (which keeps every channel and message) lives in "
        "the benchmark process and is not counted."
    )
    notes = [f"Database: {backend}."]
    if backend == "SQLite":
        notes.append(
            "On SQLite the RSS includes each pooled connection's page cache (up to 2 MiB each, up to 15 "
            "pooled connections), which fills as the database grows; growth that flattens across rounds is "
            "that cache, not a leak. Run with `--postgres` to see the process without it."
        )
    return Section(
        "Memory",
        method,
        tables=[table(["when", "declared", "RSS MiB", "change", "rate"], rows)],
        findings=findings,
        notes=notes,
    )
