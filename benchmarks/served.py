"""The app alone in a child process, so load generator and emulator do not share its interpreter or RSS."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bot.emulator import SlackEmulator

READY = "READY "


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
def served_app(emu: SlackEmulator, database_url: str, *, workers: int = 16) -> Iterator[ServedApp]:
    """Start `python -m benchmarks.served` against this emulator; stop it by closing its stdin."""
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
        [sys.executable, "-m", "benchmarks.served", "--workers", str(workers)],
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
    from bot.config import IncidentConfig
    from bot.local import LocalServer
    from bot.settings import Settings

    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    # A burst is the point of the benchmark: waitress's queue-depth warnings would only flood stderr.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    bot = create_app(Settings(), IncidentConfig(), lease=timedelta(seconds=30), workers=args.workers)
    bot.warm_up()  # as `incidentbot serve` does
    bot.start_ticker()
    try:
        with LocalServer(bot.wsgi) as server:
            print(READY + json.dumps({"url": server.events_url}), flush=True)
            sys.stdin.read()  # the parent closes stdin to stop us
            bot.runtime.drain(timeout=20)
    finally:
        bot.close()


if __name__ == "__main__":
    child_main()
