"""`incidentbot serve` as a real process: migrates at start, answers health checks, runs a declare."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.emulator import SlackEmulator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: object, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def wait_in_room(emu: SlackEmulator, name: str, user: str = "U1", seconds: float = 30.0) -> str:
    """The room's id once `user` is in it: a person types there only after the invite, never sooner."""
    wait_until(lambda: user in getattr(emu.channel_by_name(name), "members", ()), seconds)
    found = emu.channel_by_name(name)
    assert found is not None
    return found.id


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emu:
        emu.add_channel("incidents")
        yield emu


def start_serve(
    emu: SlackEmulator, database_url: str, port: int, cwd: Path, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": emu.bot_token,
        "SLACK_SIGNING_SECRET": emu.signing_secret,
        "SLACK_API_URL": emu.api_url,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    env.pop("SLACK_APP_TOKEN", None)
    return subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, cwd=cwd)


def launch_configured(
    emu: SlackEmulator, database_url: str, tmp: Path, config: str
) -> tuple[subprocess.Popen[bytes], int]:
    """A `serve` replica with this config file, on a port of its own; not yet waited for."""
    path = tmp / "incidentbot.toml"
    path.write_text(config)
    port = free_port()
    return start_serve(emu, database_url, port, tmp, extra_env={"INCIDENTBOT_CONFIG": str(path)}), port


def start_configured(
    emu: SlackEmulator, database_url: str, tmp: Path, config: str
) -> tuple[subprocess.Popen[bytes], int]:
    """A `serve` replica with this config file, once it answers its health check."""
    proc, port = launch_configured(emu, database_url, tmp, config)
    wait_until(lambda: healthy(f"http://127.0.0.1:{port}/healthz"))
    return proc, port


def start_replicas(
    emu: SlackEmulator, database_url: str, tmp: Path, config: str, count: int
) -> list[tuple[subprocess.Popen[bytes], int]]:
    """`count` replicas with this config file, started together, once each answers its health check."""
    started = [launch_configured(emu, database_url, tmp, config) for _ in range(count)]
    try:
        for _, port in started:
            wait_until(lambda p=port: healthy(f"http://127.0.0.1:{p}/healthz"))
    except BaseException:
        stop_all([proc for proc, _ in started])
        raise
    return started


def stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM every replica still running, then wait for each."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        proc.wait(timeout=10)


def test_serve_migrates_and_runs_a_declare(emulator: SlackEmulator, tmp_path: Path) -> None:
    port = free_port()
    proc = start_serve(emulator, f"sqlite:///{tmp_path / 'bot.db'}", port, Path.cwd())
    try:
        wait_until(lambda: healthy(f"http://127.0.0.1:{port}/healthz"))
        result = emulator.send_command(f"http://127.0.0.1:{port}/slack/events", "declare sev1 API down")
        assert result.status == 200
        wait_until(lambda: emulator.channel_by_name("inc-1-api-down") is not None)
        wait_until(lambda: len(emulator.channels[emulator.channel_by_name("incidents").id].messages) == 1)
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=10)
