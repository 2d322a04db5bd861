"""Paging across real processes: three replicas on one PostgreSQL page each tier once and tell the room
once; a process killed with -9 past a tier's window pages the next tier once when it is back."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.emulator import SlackEmulator
from tests.scenario.test_serve_process import (
    start_configured,
    start_replicas,
    stop_all,
    wait_until,
)
from tests.scenario.test_timer_processes import posted

ROOM = "inc-1-checkout-down"
NOTICE = "incident_page"
CONFIG = """
announce_channel = "incidents"
[escalation_policies.oncall]
tiers = [
  { notify = ["U2"], ack_within = "3s" },
  { notify = ["U3"], ack_within = "3s" },
]
[severities.sev1]
description = "Critical"
update_every = "1h"
commander_timeout = "1h"
page = "oncall"
"""


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emu:
        emu.add_channel("incidents")
        for user, name in (("U2", "bob"), ("U3", "carol")):
            emu.add_user(user, name=name)
        yield emu


def page_dms(emu: SlackEmulator, user: str) -> list[Any]:
    """The page DMs a person got (each DM of a page carries `incident_paged` metadata)."""
    return [
        m
        for c in emu.channels.values()
        if c.is_im and user in c.members
        for m in c.messages
        if (m.metadata or {}).get("event_type") == "incident_paged"
    ]


def notices(emu: SlackEmulator, words: str) -> list[Any]:
    return [m for m in posted(emu, ROOM, NOTICE) if words in m.text]


def test_three_replicas_page_each_tier_once_and_tell_the_room_once(
    emulator: SlackEmulator, postgres_url: str, tmp_path: Path
) -> None:
    procs = []
    try:
        started = start_replicas(emulator, postgres_url, tmp_path, CONFIG, 3)
        procs = [proc for proc, _ in started]
        emulator.send_command(f"http://127.0.0.1:{started[1][1]}/slack/events", "declare sev1 Checkout down")
        wait_until(lambda: len(notices(emulator, "nobody acknowledged")) >= 1, seconds=30)
        time.sleep(2.0)  # any second replica's duplicate would land by now
    finally:
        stop_all(procs)
    assert len(page_dms(emulator, "U2")) == 1 and len(page_dms(emulator, "U3")) == 1
    assert len(notices(emulator, "paging tier 2")) == 1
    assert len(notices(emulator, "nobody acknowledged")) == 1


def test_a_process_killed_past_a_tiers_window_pages_the_next_tier_once_when_back(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    proc, port = start_configured(emulator, url, tmp_path, CONFIG)
    try:
        emulator.send_command(f"http://127.0.0.1:{port}/slack/events", "declare sev1 Checkout down")
        wait_until(lambda: len(page_dms(emulator, "U2")) == 1, seconds=15)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    time.sleep(3.5)  # tier 1's window ends while nothing runs
    assert page_dms(emulator, "U3") == []
    proc, _ = start_configured(emulator, url, tmp_path, CONFIG)
    try:
        wait_until(lambda: len(page_dms(emulator, "U3")) >= 1, seconds=20)
        time.sleep(1.0)
    finally:
        stop_all([proc])
    assert len(page_dms(emulator, "U2")) == 1, "tier 1 is not paged again after the restart"
    assert len(page_dms(emulator, "U3")) == 1
    assert len(notices(emulator, "paging tier 2")) == 1
