"""`incidentbot serve` in Socket Mode as a real process: connects, acks a slash command, runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.emulator import SlackEmulator


def wait_until(predicate: object, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emu:
        emu.add_channel("incidents")
        yield emu


def start_socket_mode_serve(emu: SlackEmulator, database_url: str, cwd: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": emu.bot_token,
        "SLACK_APP_TOKEN": emu.app_token,
        "SLACK_API_URL": emu.api_url,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
    }
    env.pop("SLACK_SIGNING_SECRET", None)  # Socket Mode needs no signing secret
    env.pop("PORT", None)
    return subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, cwd=cwd)


def test_serve_in_socket_mode_acks_and_runs_a_declare(emulator: SlackEmulator, tmp_path: Path) -> None:
    proc = start_socket_mode_serve(emulator, f"sqlite:///{tmp_path / 'bot.db'}", Path.cwd())
    try:
        assert emulator.socket_connected(30), f"no Socket Mode connection (exit code {proc.poll()})"
        assert emulator.calls_to("apps.connections.open")[-1].ok

        ack = emulator.socket_send_command("declare sev1 API down")

        assert "API down" in str(ack.get("text", ""))
        assert [e.type for e in emulator.socket_mode.envelopes] == ["slash_commands"]
        wait_until(lambda: emulator.channel_by_name("inc-1-api-down") is not None)
        incidents = emulator.channel_by_name("incidents")
        assert incidents is not None
        wait_until(lambda: len(emulator.channels[incidents.id].messages) == 1)
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=10)
