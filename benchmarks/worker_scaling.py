"""A burst of declares on one web process, finished by 1, 2 and 4 `incidentbot work` processes on PostgreSQL.

Each run starts real processes (`serve` with INCIDENTBOT_RUN_WORKER=false, then the workers) against a
fresh emulator with a fixed latency per Web API call, sends the burst concurrently, and times until every
room is provisioned (the pin included). It fails loudly if any Web API call was made twice.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, pool, text

from benchmarks.harness import BENCH_DECLARE_LIMIT, bench_config, start_emulator
from benchmarks.report import Finding, Section, table, verdict
from bot.emulator import SlackEmulator

WORKERS = (1, 2, 4)
DECLARES = 100
LATENCY = 0.1  # seconds per Web API call: Slack's usual, so a worker's slots, not the CPU, bound it
SENDERS = 20  # concurrent clients sending the burst
TICK = "5"  # long, so every job is taken on NOTIFY or when a job ends, never by the tick
TABLES = "incidents, slack_jobs, timeline_events, bot_posts, processed_deliveries"


@dataclass(frozen=True)
class Run:
    workers: int
    seconds: float
    calls: int
    repeated: int


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(port: int, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"no process became healthy on port {port}")


@dataclass(frozen=True)
class Fleet:
    """The web process's port, and its pid (to read its CPU time)."""

    port: int
    web_pid: int

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"


@contextmanager
def fleet(emu: SlackEmulator, url: str, workers: int, tmp: Path, *, tick: str = TICK) -> Iterator[Fleet]:
    """Start `serve` (INCIDENTBOT_RUN_WORKER=false) and `workers` `incidentbot work`; stop them all."""
    config = tmp / "incidentbot.toml"
    config.write_text(f'declare_rate_limit = "{BENCH_DECLARE_LIMIT}"\n')
    base = {
        **os.environ,
        "SLACK_BOT_TOKEN": emu.bot_token,
        "SLACK_SIGNING_SECRET": emu.signing_secret,
        "SLACK_API_URL": emu.api_url,
        "DATABASE_URL": url,
        "LOG_LEVEL": "ERROR",
        "INCIDENTBOT_CONFIG": str(config),
        "INCIDENTBOT_TICK_SECONDS": tick,
        "INCIDENTBOT_MIGRATE_ON_START": "false",
    }
    base.pop("SLACK_APP_TOKEN", None)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        web = _free_port()
        env = {**base, "PORT": str(web), "INCIDENTBOT_RUN_WORKER": "false"}
        procs.append(subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, cwd=tmp))
        ports = [web]
        for _ in range(workers):
            port = _free_port()
            env = {**base, "INCIDENTBOT_WORKER_HEALTH_PORT": str(port)}
            procs.append(subprocess.Popen([sys.executable, "-m", "bot", "work"], env=env, cwd=tmp))
            ports.append(port)
        for port in ports:
            _wait_healthy(port)
        time.sleep(1.0)  # every worker's LISTEN is in place
        yield Fleet(web, procs[0].pid)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


def _provisioned(url: str) -> int:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(text("SELECT count(*) FROM incidents WHERE provisioned_at IS NOT NULL")).one()[0]
            )
    finally:
        engine.dispose()


def _reset(url: str) -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


def run_once(url: str, workers: int, declares: int) -> Run:
    """One burst against a fresh emulator and an emptied database."""
    _reset(url)
    emu, _general, _announce = start_emulator(bench_config())
    try:
        with (
            tempfile.TemporaryDirectory(prefix="incidentbot-scaling-") as tmp,
            fleet(emu, url, workers, Path(tmp)) as running,
        ):
            emu.set_latency(LATENCY)
            emu.reset_calls()
            events = running.events_url
            started = time.monotonic()
            with ThreadPoolExecutor(SENDERS) as senders:
                list(
                    senders.map(
                        lambda n: emu.send_command(events, f"declare sev2 Outage {n}"), range(declares)
                    )
                )
            deadline = started + 120
            while _provisioned(url) < declares and time.monotonic() < deadline:
                time.sleep(0.02)
            seconds = time.monotonic() - started
            if _provisioned(url) < declares:
                raise RuntimeError(f"{workers} worker(s) did not provision {declares} rooms in 120 s")
            calls = [c for c in emu.calls if c.ok]
        same = Counter((c.method, json.dumps(c.args, sort_keys=True, default=str)) for c in calls)
        repeated = sum(n - 1 for n in same.values() if n > 1)
        return Run(workers, seconds, len(calls), repeated)
    finally:
        emu.stop()


def measure(db_url: str, declares: int = DECLARES, worker_counts: tuple[int, ...] = WORKERS) -> Section:
    """Time the burst per number of workers; PostgreSQL only (SQLite runs jobs inside serve)."""
    method = (
        f"One `incidentbot serve` with `INCIDENTBOT_RUN_WORKER=false` and 1, 2 or 4 `incidentbot work` "
        f"processes on one PostgreSQL, each run on an emptied database and a fresh emulator answering "
        f"every Web API call after {LATENCY * 1000:.0f} ms; {declares} declares sent by {SENDERS} concurrent "
        f"clients; timed from the first send until every room is provisioned (pinned included). The tick "
        f"is {TICK} s, so jobs are taken on NOTIFY or as slots free up. All processes share this machine's "
        "cores with the emulator and PostgreSQL."
    )
    if not db_url.startswith("postgresql"):
        return Section("Worker scaling", method, notes=["Skipped: needs PostgreSQL (`--postgres URL`)."])
    runs = [run_once(db_url, n, declares) for n in worker_counts]
    base = runs[0].seconds
    rows = [
        [
            str(r.workers),
            f"{r.seconds:.2f} s",
            f"{declares / r.seconds:.0f}/s",
            f"{base / r.seconds:.2f}×",
            str(r.calls),
            str(r.repeated),
        ]
        for r in runs
    ]
    header = ["workers", "all rooms provisioned", "rooms/s", "speed-up", "Web API calls", "calls made twice"]
    repeated = sum(r.repeated for r in runs)
    if repeated:
        raise AssertionError(f"{repeated} Web API call(s) were made twice across the runs")
    return Section(
        "Worker scaling",
        method,
        tables=[table(header, rows)],
        findings=[
            Finding(
                f"{declares}-declare burst, Web API calls made twice",
                "none",
                str(repeated),
                verdict(repeated == 0),
            )
        ],
    )
