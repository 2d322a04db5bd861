"""Stale nudges and archiving across real processes: three replicas on one PostgreSQL act once; a process
killed with -9 and restarted archives once and posts one overdue nudge, not one per missed period."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.emulator import SlackEmulator
from tests.scenario.test_serve_process import (
    healthy,
    launch_configured,
    start_configured,
    stop_all,
    wait_in_room,
    wait_until,
)

STALE = "incident_stale"
ARCHIVED = "incident_archived"
CONFIG = """
announce_channel = "incidents"
archive_after = "3s"
[severities.sev1]
description = "Critical"
update_every = "1h"
commander_timeout = "1h"
stale_after = "2s"
"""


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emu:
        emu.add_channel("incidents")
        yield emu


def room(emu: SlackEmulator, name: str) -> Any:
    found = emu.channel_by_name(name)
    assert found is not None, f"no room {name}"
    return found


def posted(emu: SlackEmulator, name: str, event_type: str) -> list[Any]:
    found = emu.channel_by_name(name)
    if found is None:
        return []
    return [m for m in found.messages if (m.metadata or {}).get("event_type") == event_type]


def launch(emu: SlackEmulator, url: str, tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    return launch_configured(emu, url, tmp, CONFIG)


def start(emu: SlackEmulator, url: str, tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    return start_configured(emu, url, tmp, CONFIG)


def declare_and_resolve(emu: SlackEmulator, events: str) -> None:
    """INC-1 stays open and quiet; INC-2 is resolved at once by its commander."""
    emu.send_command(events, "declare sev1 Checkout down")
    emu.send_command(events, "declare sev1 Search down")
    resolved = wait_in_room(emu, "inc-2-search-down")
    emu.send_command(events, "assign commander <@U1>", channel_id=resolved)
    emu.send_command(events, "resolve", channel_id=resolved)
    wait_until(
        lambda: any("is resolved" in m.text for m in room(emu, "inc-2-search-down").messages), seconds=30
    )


def test_three_replicas_nudge_and_archive_exactly_once(
    emulator: SlackEmulator, postgres_url: str, tmp_path: Path
) -> None:
    procs: list[subprocess.Popen[bytes]] = []
    try:
        started = [launch(emulator, postgres_url, tmp_path) for _ in range(3)]
        procs = [proc for proc, _ in started]
        for _, replica_port in started:
            wait_until(lambda p=replica_port: healthy(f"http://127.0.0.1:{p}/healthz"))
        declare_and_resolve(emulator, f"http://127.0.0.1:{started[0][1]}/slack/events")
        wait_until(lambda: len(posted(emulator, "inc-1-checkout-down", STALE)) >= 3, seconds=20)
        wait_until(lambda: room(emulator, "inc-2-search-down").archived, seconds=20)
        time.sleep(1.0)  # any second replica's duplicate would land by now
    finally:
        stop_all(procs)
    keys = [m.metadata["event_payload"]["key"] for m in posted(emulator, "inc-1-checkout-down", STALE)]
    assert len(keys) == len(set(keys)), f"a nudge was posted twice: {keys}"
    assert len(posted(emulator, "inc-2-search-down", ARCHIVED)) == 1
    assert len(emulator.calls_to("conversations.archive")) == 1
    assert posted(emulator, "inc-2-search-down", STALE) == [], "a resolved incident is never nudged"


def test_killed_and_restarted_process_archives_once_and_nudges_once(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    proc, port = start(emulator, url, tmp_path)
    try:
        declare_and_resolve(emulator, f"http://127.0.0.1:{port}/slack/events")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    time.sleep(5.0)  # the archive falls due, and two quiet periods pass, while nothing runs
    before = len(posted(emulator, "inc-1-checkout-down", STALE))
    assert not room(emulator, "inc-2-search-down").archived
    proc, port = start(emulator, url, tmp_path)
    try:
        wait_until(lambda: room(emulator, "inc-2-search-down").archived, seconds=20)
        wait_until(lambda: len(posted(emulator, "inc-1-checkout-down", STALE)) > before, seconds=20)
        time.sleep(1.0)
        after_restart = posted(emulator, "inc-1-checkout-down", STALE)[before:]
        first = float(after_restart[0].ts)
        burst = [m for m in after_restart if float(m.ts) - first < 1.5]
        assert len(burst) == 1, "one overdue nudge, not one per missed period"
    finally:
        stop_all([proc])
    assert len(posted(emulator, "inc-2-search-down", ARCHIVED)) == 1
    assert len(emulator.calls_to("conversations.archive")) == 1
