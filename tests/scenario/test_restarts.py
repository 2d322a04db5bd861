"""A deploy or a crash mid-incident: the restarted process carries on at once, not when a lease runs out."""

from __future__ import annotations

import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, pool, text

from bot.emulator import SlackEmulator
from tests.scenario.test_reminder_processes import reminders
from tests.scenario.test_serve_process import free_port, healthy, start_serve, stop_all, wait_until

CONFIG = """
announce_channel = "incidents"
[severities.sev1]
description = "Critical"
update_every = "4s"
commander_timeout = "1h"
"""


def provisioned(url: str) -> bool:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT provisioned_at FROM incidents WHERE id = 1")).first()
            return row is not None and row[0] is not None
    finally:
        engine.dispose()


def serve(emu: SlackEmulator, url: str, tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    config = tmp / "incidentbot.toml"
    config.write_text(CONFIG)
    port = free_port()
    proc = start_serve(emu, url, port, tmp, extra_env={"INCIDENTBOT_CONFIG": str(config)})
    wait_until(lambda: healthy(f"http://127.0.0.1:{port}/healthz"))
    return proc, port


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "kill-9"])
def test_restart_a_second_after_declaring_keeps_reminders_on_time_and_finishes_the_room(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    with SlackEmulator() as emu:
        emu.add_channel("incidents")
        emu.set_latency(6.0, "pins.add")  # the room is still being set up when the process stops
        proc, port = serve(emu, url, tmp_path)
        procs: list[subprocess.Popen[Any]] = [proc]
        try:
            emu.send_command(f"http://127.0.0.1:{port}/slack/events", "declare sev1 Checkout down")
            time.sleep(1.0)
            assert not provisioned(url)
            proc.send_signal(stop_signal)
            if stop_signal == signal.SIGKILL:
                proc.wait(timeout=15)
            # A deploy starts the new process at once; a stopping one finishes or hands over its work.
            emu.set_latency(0, "pins.add")
            proc, port = serve(emu, url, tmp_path)
            procs.append(proc)
            restarted = time.monotonic()
            wait_until(lambda: provisioned(url), seconds=15)
            assert time.monotonic() - restarted < 7.0, "the unfinished room waited for a lease to run out"
            wait_until(lambda: len(reminders(emu)) >= 1, seconds=10)
            assert procs[0].wait(timeout=15) == (0 if stop_signal == signal.SIGTERM else -signal.SIGKILL)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.terminate()
                    p.wait(timeout=15)
        first = reminders(emu)[0]
        due = datetime.fromisoformat(first.metadata["event_payload"]["key"].removeprefix("reminder:"))
        late = float(first.ts) - due.timestamp()
        assert late < 2.0, f"the first reminder went out {late:.1f}s after it was due"
        room = emu.channel_by_name("inc-1-checkout-down")
        assert room is not None and len(room.pins) == 1
        summaries = [m for m in room.messages if (m.metadata or {}).get("event_type") == "incident_declared"]
        assert len(summaries) == 1, "the restarted process posted the summary again"


def pins(url: str) -> list[str]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT message_ts FROM timeline_events WHERE kind = 'pinned'"))
            return [str(row[0]) for row in rows]
    finally:
        engine.dispose()


def test_a_pin_acknowledged_just_before_a_crash_is_recorded_after_the_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    with SlackEmulator() as emu:
        emu.add_channel("incidents")
        proc, port = serve(emu, url, tmp_path)
        procs: list[subprocess.Popen[Any]] = [proc]
        try:
            events = f"http://127.0.0.1:{port}/slack/events"
            emu.send_command(events, "declare sev1 Checkout down")
            wait_until(lambda: provisioned(url))
            room = emu.channel_by_name("inc-1-checkout-down")
            assert room is not None
            room.members.add("U2")
            ts = emu.post_as_user(room.id, "U2", "error rate 40% since 09:12")
            emu.set_latency(3.0, "conversations.history")  # the message is still being read when it dies
            assert emu.react(events, user_id="U1", channel_id=room.id, ts=ts).status == 200
            proc.send_signal(signal.SIGKILL)  # Slack got its 200: it will not send the event again
            proc.wait(timeout=15)
            emu.set_latency(0, "conversations.history")
            proc, port = serve(emu, url, tmp_path)
            procs.append(proc)
            wait_until(lambda: pins(url) == [ts], seconds=15)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.terminate()
                    p.wait(timeout=15)


def test_a_deploy_in_the_middle_of_a_burst_keeps_every_acknowledged_declare_and_does_none_twice(
    tmp_path: Path,
) -> None:
    """Thirty people declare at once; SIGTERM lands while their acks and rooms are under way. Every declare
    the bot acknowledged gets exactly one room after the restart; what it never answered, it never made."""
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    people = [f"U{100 + n}" for n in range(30)]
    with SlackEmulator() as emu:
        emu.add_channel("incidents")
        for who in people:
            emu.add_user(who, name=who.lower())
        emu.set_latency(0.3)  # rooms are still being made when the deploy comes
        proc, port = serve(emu, url, tmp_path)
        procs: list[subprocess.Popen[Any]] = [proc]
        events = f"http://127.0.0.1:{port}/slack/events"

        def declare(who: str) -> str | None:
            try:
                answer = emu.send_command(events, f"declare sev1 Checkout down for {who}", user_id=who)
            except OSError:
                return None  # the process had stopped listening: Slack shows this person a timeout
            return who if answer.status == 200 and "Declared" in answer.body else None

        try:
            with ThreadPoolExecutor(max_workers=len(people)) as pool:
                answers = [pool.submit(declare, who) for who in people]
                wait_until(lambda: any(a.done() and a.result() for a in answers), seconds=10)
                proc.send_signal(signal.SIGTERM)  # the deploy, mid-burst
                acknowledged = [who for a in answers if (who := a.result()) is not None]
            assert proc.wait(timeout=15) == 0
            emu.set_latency(0)
            proc, _ = serve(emu, url, tmp_path)
            procs.append(proc)

            def provisioned_for(who: str) -> bool:
                return any(
                    room.name.endswith(f"-checkout-down-for-{who.lower()}")
                    and who in room.members
                    and room.pins
                    for room in list(emu.channels.values())
                )

            wait_until(lambda: all(provisioned_for(who) for who in acknowledged), seconds=30)
        finally:
            stop_all(procs)
        assert acknowledged, "the deploy came before any acknowledgement: the test proves nothing"
        created = [c.args["name"] for c in emu.calls_to("conversations.create") if c.ok]
        assert len(created) == len(set(created)), f"a room was created twice: {created}"
        announced = emu.channels[emu.channel_by_name("incidents").id].messages  # type: ignore[union-attr]
        assert len(announced) == len(created), "an announcement was posted twice or is missing"
