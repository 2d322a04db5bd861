"""`incidentbot serve` as a real process: what it refuses to start with, what it warns about, how it stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.emulator import SlackEmulator
from bot.slack.manifest import build_manifest
from tests.scenario.test_serve_process import free_port, healthy, wait_until

WRONG_TOKEN = "xoxb-1234-not-the-installed-one"
REMINDER = "incident_update_reminder"


@dataclass
class Serve:
    """A `serve` process whose stderr goes to a file, so tests can read its log while it runs."""

    proc: subprocess.Popen[bytes]
    log_path: Path
    port: int

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/healthz"

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def sigterm(self, within: float = 5.0) -> tuple[int, float]:
        """Send SIGTERM; return the exit code and how long the process took to exit."""
        sent = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=within)
        return code, time.monotonic() - sent


def environment(emu: SlackEmulator, tmp: Path, **overrides: str | None) -> dict[str, str]:
    """The environment of an HTTP-mode bot on the emulator; None removes a variable."""
    env: dict[str, str | None] = {
        **os.environ,
        "SLACK_BOT_TOKEN": emu.bot_token,
        "SLACK_SIGNING_SECRET": emu.signing_secret,
        "SLACK_APP_TOKEN": None,
        "SLACK_API_URL": emu.api_url,
        "DATABASE_URL": f"sqlite:///{tmp / 'bot.db'}",
        "PORT": str(free_port()),
        "LOG_LEVEL": "INFO",
        "INCIDENTBOT_CONFIG": None,
        **overrides,
    }
    return {key: value for key, value in env.items() if value is not None}


def socket_mode(emu: SlackEmulator) -> dict[str, str | None]:
    return {"SLACK_APP_TOKEN": emu.app_token, "SLACK_SIGNING_SECRET": None, "PORT": None}


def launch(env: dict[str, str], tmp: Path) -> Serve:
    log_path = tmp / f"serve-{len(list(tmp.glob('serve-*.log')))}.log"
    with log_path.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            env=env,
            cwd=Path.cwd(),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    return Serve(proc, log_path, int(env.get("PORT", "0")))


def run_to_exit(env: dict[str, str], timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Run serve expecting it to refuse to start (a bot that starts instead times out the test)."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        env=env,
        cwd=Path.cwd(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emu:
        emu.add_channel("incidents")
        yield emu


@pytest.fixture
def running() -> Iterator[list[Serve]]:
    """Processes a test started; killed if the test left them running."""
    started: list[Serve] = []
    yield started
    for serve in started:
        if serve.proc.poll() is None:
            serve.proc.kill()
            serve.proc.wait(timeout=10)


def start(env: dict[str, str], tmp: Path, running: list[Serve]) -> Serve:
    serve = launch(env, tmp)
    running.append(serve)
    return serve


# --- refusing to start --------------------------------------------------------------------------------


def test_http_mode_without_signing_secret_refuses_to_start_and_says_why(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    result = run_to_exit(environment(emulator, tmp_path, SLACK_SIGNING_SECRET=None))

    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET is not set" in result.stderr
    assert "Basic Information" in result.stderr and "SLACK_APP_TOKEN" in result.stderr
    # Refused before touching anything: no database created, nothing asked of Slack.
    assert not (tmp_path / "bot.db").exists()
    assert emulator.calls == []


def test_a_wrong_bot_token_refuses_to_start_naming_the_error(emulator: SlackEmulator, tmp_path: Path) -> None:
    result = run_to_exit(environment(emulator, tmp_path, SLACK_BOT_TOKEN=WRONG_TOKEN))

    assert result.returncode == 2
    assert "invalid_auth" in result.stderr and "SLACK_BOT_TOKEN" in result.stderr
    assert "OAuth & Permissions" in result.stderr
    assert WRONG_TOKEN not in result.stderr + result.stdout
    assert [c.method for c in emulator.calls] == ["auth.test"]


def test_a_revoked_token_refuses_to_start_in_socket_mode_too(emulator: SlackEmulator, tmp_path: Path) -> None:
    emulator.error("auth.test", "token_revoked")

    result = run_to_exit(environment(emulator, tmp_path, **socket_mode(emulator)))

    assert result.returncode == 2
    assert "token_revoked" in result.stderr and "reinstall" in result.stderr
    assert emulator.bot_token not in result.stderr + result.stdout
    assert emulator.calls_to("apps.connections.open") == []  # refused before connecting


# --- starting with warnings ---------------------------------------------------------------------------


def test_unreachable_slack_at_start_is_a_warning_and_the_bot_serves(
    emulator: SlackEmulator, tmp_path: Path, running: list[Serve]
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/api/"
    serve = start(environment(emulator, tmp_path, SLACK_API_URL=nowhere), tmp_path, running)

    wait_until(lambda: healthy(serve.health_url))

    warnings = [line for line in serve.log.splitlines() if " WARNING " in line]
    assert any("could not check SLACK_BOT_TOKEN" in line and "starting anyway" in line for line in warnings)
    assert " ERROR " not in serve.log and "Traceback" not in serve.log
    assert serve.sigterm()[0] == 0


def test_missing_scopes_are_named_at_start(tmp_path: Path, running: list[Serve]) -> None:
    manifest = build_manifest()
    granted = manifest["oauth_config"]["scopes"]["bot"]
    manifest["oauth_config"]["scopes"]["bot"] = [s for s in granted if s not in ("pins:write", "im:write")]
    with SlackEmulator(manifest=manifest) as emu:
        serve = start(environment(emu, tmp_path), tmp_path, running)
        wait_until(lambda: healthy(serve.health_url))

        warnings = [line for line in serve.log.splitlines() if " WARNING " in line]
        assert any(
            "the app lacks the pins:write scope" in line and "`incidentbot manifest`" in line
            for line in warnings
        )
        assert any("the app lacks the im:write scope" in line for line in warnings)
        assert len(warnings) == 2
        assert emu.bot_token not in serve.log
        assert serve.sigterm()[0] == 0


# --- running and stopping -----------------------------------------------------------------------------


def reminders(emu: SlackEmulator) -> list[Any]:
    room = emu.channel_by_name("inc-1-checkout-down")
    if room is None:
        return []
    return [m for m in room.messages if (m.metadata or {}).get("event_type") == REMINDER]


def test_a_running_bot_logs_nothing_per_tick(
    emulator: SlackEmulator, tmp_path: Path, running: list[Serve]
) -> None:
    config = tmp_path / "incidentbot.toml"
    config.write_text(
        '[severities.sev1]\ndescription = "Critical"\nupdate_every = "1s"\ncommander_timeout = "1h"\n'
    )
    # Half a second: a tick on a loaded machine (CI runs two test workers) still fits in it, so a skipped
    # tick would mean the tick got slow, not that the machine was busy for a moment.
    env = environment(emulator, tmp_path, INCIDENTBOT_CONFIG=str(config), INCIDENTBOT_TICK_SECONDS="0.5")
    serve = start(env, tmp_path, running)
    wait_until(lambda: healthy(serve.health_url))
    emulator.send_command(serve.events_url, "declare sev1 Checkout down")
    wait_until(lambda: len(reminders(emulator)) >= 1)
    before = serve.log

    # Reminders are only ever posted by the tick: three more mean the tick ran (at 0.5 s, ~6 times).
    wait_until(lambda: len(reminders(emulator)) >= 4)

    assert serve.log == before, f"logged while ticking: {serve.log[len(before) :][:500]!r}"
    assert "apscheduler" not in serve.log
    assert "Running job" not in serve.log and "executed successfully" not in serve.log
    assert serve.sigterm()[0] == 0


def test_sigterm_stops_http_serve_promptly_and_cleanly(
    emulator: SlackEmulator, tmp_path: Path, running: list[Serve]
) -> None:
    serve = start(environment(emulator, tmp_path), tmp_path, running)
    wait_until(lambda: healthy(serve.health_url))
    emulator.send_command(serve.events_url, "declare sev1 API down")
    wait_until(lambda: emulator.channel_by_name("inc-1-api-down") is not None)

    code, took = serve.sigterm()

    assert code == 0 and took < 5
    assert "SIGTERM received: no longer taking requests" in serve.log
    assert "stopped after SIGTERM" in serve.log and "Traceback" not in serve.log
    assert not healthy(serve.health_url)


def test_sigterm_stops_socket_mode_serve_promptly_and_cleanly(
    emulator: SlackEmulator, tmp_path: Path, running: list[Serve]
) -> None:
    serve = start(environment(emulator, tmp_path, **socket_mode(emulator)), tmp_path, running)
    assert emulator.socket_connected(30), serve.log

    code, took = serve.sigterm()

    assert code == 0 and took < 5
    assert "stopped after SIGTERM" in serve.log and "Traceback" not in serve.log
