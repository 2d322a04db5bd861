"""Reminders across real processes: three replicas on one PostgreSQL post each reminder once; a killed
and restarted process posts an overdue reminder once, not once per missed period."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.emulator import SlackEmulator
from tests.scenario.test_serve_process import (
    healthy,
    launch_configured,
    start_configured,
    stop_all,
    wait_until,
)

REMINDER = "incident_update_reminder"
CONFIG = """
[severities.sev1]
description = "Critical"
update_every = "2s"
commander_timeout = "1h"
"""


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emu:
        emu.add_channel("incidents")
        yield emu


def reminders(emu: SlackEmulator) -> list[Any]:
    room = emu.channel_by_name("inc-1-checkout-down")
    if room is None:
        return []
    return [m for m in room.messages if (m.metadata or {}).get("event_type") == REMINDER]


def launch(emu: SlackEmulator, url: str, tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    return launch_configured(emu, url, tmp, CONFIG)


def start(emu: SlackEmulator, url: str, tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    return start_configured(emu, url, tmp, CONFIG)


def test_three_replicas_post_each_reminder_exactly_once(
    emulator: SlackEmulator, postgres_url: str, tmp_path: Path
) -> None:
    procs: list[subprocess.Popen[bytes]] = []
    try:
        # All three migrate at start at the same moment: the advisory lock serialises them.
        started = [launch(emulator, postgres_url, tmp_path) for _ in range(3)]
        procs = [proc for proc, _ in started]
        for _, replica_port in started:
            wait_until(lambda p=replica_port: healthy(f"http://127.0.0.1:{p}/healthz"))
        port = started[0][1]
        emulator.send_command(f"http://127.0.0.1:{port}/slack/events", "declare sev1 Checkout down")
        wait_until(lambda: len(reminders(emulator)) >= 4, seconds=20)
    finally:
        stop_all(procs)
    posted = reminders(emulator)
    keys = [m.metadata["event_payload"]["key"] for m in posted]
    assert len(keys) == len(set(keys)), f"a reminder was posted twice: {keys}"
    for message in posted:
        due = datetime.fromisoformat(message.metadata["event_payload"]["key"].removeprefix("reminder:"))
        late = float(message.ts) - due.timestamp()
        assert late < 2.0, f"reminder posted {late:.2f}s after its due time"


def test_killed_and_restarted_process_posts_an_overdue_reminder_once(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    proc, port = start(emulator, url, tmp_path)
    try:
        emulator.send_command(f"http://127.0.0.1:{port}/slack/events", "declare sev1 Checkout down")
        wait_until(lambda: len(reminders(emulator)) == 1, seconds=10)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    time.sleep(6.5)  # three more periods pass while nothing runs
    assert len(reminders(emulator)) == 1
    proc, port = start(emulator, url, tmp_path)
    try:
        wait_until(lambda: len(reminders(emulator)) >= 2, seconds=20)
        time.sleep(1.0)
        after_restart = reminders(emulator)[1:]
        first = float(after_restart[0].ts)
        burst = [m for m in after_restart if float(m.ts) - first < 1.5]
        assert len(burst) == 1, "one overdue reminder, not one per missed period"
    finally:
        stop_all([proc])
