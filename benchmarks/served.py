"""The app alone in a child process, so load generator and emulator do not share its interpreter or RSS."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.emulator import SlackEmulator

READY = "READY "
CLOCK_TICK = 1 / os.sysconf("SC_CLK_TCK")  # seconds per unit of /proc's CPU times


def cpu_seconds(pid: int) -> float:
    """CPU time of every live thread of a process so far, from /proc (Linux), in seconds.

    Nanosecond precision, but a thread that ended takes its time with it: see `process_cpu_seconds`.
    """
    total = 0
    for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            total += int(stat.read_text().split()[0])
        except (OSError, IndexError, ValueError):  # a thread that ended while being read
            continue
    return total / 1e9


def process_cpu_seconds(pid: int) -> float:
    """User + system time of a whole process so far, from /proc/<pid>/stat (Linux), in seconds.

    Unlike `cpu_seconds` this keeps the time of threads that have ended (the app's job watch ends its
    thread whenever nobody waits), in clock ticks (10 ms): sum it over enough work.
    """
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) * CLOCK_TICK  # utime, stime: fields 14 and 15 of stat


def rss_bytes(pid: int) -> int:
    """Resident set size of a process from /proc (Linux), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


@dataclass
class ServedApp:
    """Handle on the child: its events URL and pid (for RSS)."""

    url: str
    pid: int

    @property
    def rss(self) -> int:
        return rss_bytes(self.pid)


@contextmanager
def served_app(
    emu: SlackEmulator,
    database_url: str,
    *,
    workers: int = 16,
    floor: bool = False,
    hold_ms: int | None = None,
) -> Iterator[ServedApp]:
    """Start `python -m benchmarks.served` against this emulator; stop it by closing its stdin.

    With `floor`, the child serves a do-nothing WSGI app under the same waitress: what the server and
    the load generator cost on this machine before the bot does anything. With `hold_ms` as well, that
    app holds each request for a commit taking that long, batched as the bot batches its declares.
    """
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": emu.bot_token,
        "SLACK_SIGNING_SECRET": emu.signing_secret,
        "SLACK_API_URL": emu.api_url,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
    }
    env.pop("SLACK_APP_TOKEN", None)
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks.served",
            "--workers",
            str(workers),
            *(["--floor"] * floor),
            *(["--hold-ms", str(hold_ms)] if hold_ms is not None else []),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        line = child.stdout.readline()
        if not line.startswith(READY):
            raise RuntimeError(f"benchmark child did not start: {line!r}")
        yield ServedApp(url=json.loads(line[len(READY) :])["url"], pid=child.pid)
    finally:
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=5)


def child_main(argv: list[str] | None = None) -> None:
    """Child side: build the app as `incidentbot serve` does, serve it on loopback until stdin closes."""
    import logging

    from bot.app import create_app
    from bot.ops.config import IncidentConfig
    from bot.ops.local import LocalServer
    from bot.ops.server import tune_for_acks
    from bot.ops.settings import Settings

    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--floor", action="store_true")
    parser.add_argument("--hold-ms", type=int, default=None)
    args = parser.parse_args(argv)
    if args.floor:
        serve_floor(args.hold_ms)
        return
    logging.basicConfig(level=logging.WARNING)
    # A burst is the point of the benchmark: waitress's queue-depth warnings would only flood stderr.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    # One user declares the whole burst: the per-person limit is raised, and still counted.
    config = IncidentConfig(declare_rate_limit="1000000/1m")
    bot = create_app(Settings(), config, lease=timedelta(seconds=30), workers=args.workers)
    bot.warm_up()  # as `incidentbot serve` does
    bot.start_ticker()
    tune_for_acks()
    try:
        with LocalServer(bot.wsgi) as server:
            print(READY + json.dumps({"url": server.events_url}), flush=True)
            sys.stdin.read()  # the parent closes stdin to stop us
            bot.runtime.drain(timeout=20)
    finally:
        bot.close()


def do_nothing(environ: dict[str, Any], start_response: Callable[..., object]) -> list[bytes]:
    """Read the request and answer an empty 200: the least any Slack endpoint can do."""
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    return empty_ok(start_response)


def empty_ok(start_response: Callable[..., object]) -> list[bytes]:
    """The floor's answer: an empty JSON 200."""
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
    return [b"{}"]


def held(hold_ms: int) -> Callable[[dict[str, Any], Callable[..., object]], list[bytes]]:
    """The do-nothing app holding each request for a commit of `hold_ms` that does nothing else.

    It batches as the bot's declares do, with the bot's own group commit and its wait for a burst's
    requests (bot.pipeline): what acknowledging after a commit costs by itself, before any parsing,
    recording or answering.
    """
    from bot.pipeline.arrivals import Arrivals
    from bot.pipeline.group_commit import BatchRecorder
    from bot.pipeline.runtime import GATHER_SECONDS, QUIET_SECONDS

    arrivals = Arrivals()

    def commit(items: Sequence[None]) -> list[None]:
        time.sleep(hold_ms / 1000)
        return [None] * len(items)

    recorder: BatchRecorder[None, None] = BatchRecorder(
        commit, name="floor-commit", gather=lambda: arrivals.gather(GATHER_SECONDS, QUIET_SECONDS)
    )

    def app(environ: dict[str, Any], start_response: Callable[..., object]) -> list[bytes]:
        with arrivals.arriving():
            environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            committed = recorder.submit(None, lambda _result: None)
            arrivals.settled()
            committed.result(timeout=10)
        return empty_ok(start_response)

    return app


def serve_floor(hold_ms: int | None = None) -> None:
    """Child side of `floor`: the do-nothing app (holding a commit, with `hold_ms`) under the bot's
    waitress and interpreter settings."""
    from bot.ops.local import LocalServer
    from bot.ops.server import tune_for_acks

    tune_for_acks()
    app = do_nothing if hold_ms is None else held(hold_ms)
    with LocalServer(app) as server:
        print(READY + json.dumps({"url": server.events_url}), flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    child_main()
