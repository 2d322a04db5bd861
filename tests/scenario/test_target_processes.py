"""Target warnings and breaches across real processes: three replicas on one PostgreSQL post each once; a
process killed with -9 and restarted after both moments posts the breach alone, not the stale warning."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.emulator import SlackEmulator
from tests.scenario.test_serve_process import (
    start_configured,
    start_replicas,
    stop_all,
    wait_until,
)
from tests.scenario.test_timer_processes import posted

WARNING = "incident_target_warning"
BREACHED = "incident_target_breached"
ROOM = "inc-1-checkout-down"
CONFIG = """
announce_channel = "incidents"
[severities.sev1]
description = "Critical"
update_every = "1h"
commander_timeout = "1h"
acknowledge_within = "4s"
"""


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emu:
        emu.add_channel("incidents")
        yield emu


def test_three_replicas_warn_and_announce_the_breach_exactly_once(
    emulator: SlackEmulator, postgres_url: str, tmp_path: Path
) -> None:
    procs = []
    try:
        started = start_replicas(emulator, postgres_url, tmp_path, CONFIG, 3)
        procs = [proc for proc, _ in started]
        emulator.send_command(f"http://127.0.0.1:{started[0][1]}/slack/events", "declare sev1 Checkout down")
        wait_until(lambda: len(posted(emulator, ROOM, BREACHED)) >= 1, seconds=20)
        time.sleep(2.0)  # any second replica's duplicate would land by now
    finally:
        stop_all(procs)
    assert len(posted(emulator, ROOM, WARNING)) == 1
    (breach,) = posted(emulator, ROOM, BREACHED)
    assert breach.metadata["event_payload"]["target"] == "acknowledge_within"


def test_a_process_restarted_past_both_moments_posts_the_breach_alone(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    proc, port = start_configured(emulator, url, tmp_path, CONFIG)
    try:
        emulator.send_command(f"http://127.0.0.1:{port}/slack/events", "declare sev1 Checkout down")
        wait_until(lambda: emulator.channel_by_name(ROOM) is not None, seconds=10)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    time.sleep(5.0)  # the warning (3.2 s) and the breach (4 s) fall due while nothing runs
    assert posted(emulator, ROOM, WARNING) == posted(emulator, ROOM, BREACHED) == []
    proc, _ = start_configured(emulator, url, tmp_path, CONFIG)
    try:
        wait_until(lambda: len(posted(emulator, ROOM, BREACHED)) >= 1, seconds=20)
        time.sleep(2.0)
    finally:
        stop_all([proc])
    assert len(posted(emulator, ROOM, BREACHED)) == 1
    assert posted(emulator, ROOM, WARNING) == [], "a warning whose breach has passed is not posted late"
