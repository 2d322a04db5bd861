"""Web and worker processes on one PostgreSQL: `serve` with INCIDENTBOT_RUN_WORKER=false records and
acknowledges, `incidentbot work` processes run the Slack jobs, woken at once by NOTIFY, each job once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, pool, text

from bot.emulator import SlackEmulator
from tests.scenario.test_serve_process import free_port, healthy, start_serve, wait_until

TICK = "5"  # long, so a job taken within a second was taken on NOTIFY, not by the tick
CONFIG = """
announce_channel = "incidents"
declare_rate_limit = "1000/1m"
[severities.sev1]
update_every = "1h"
commander_timeout = "1h"
"""


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emu:
        emu.add_channel("incidents")
        for n in range(100, 140):
            emu.add_user(f"U{n}", name=f"person{n}")
        yield emu


class Fleet:
    """One web process and any number of worker processes, all stopped at the end."""

    def __init__(self, emu: SlackEmulator, url: str, tmp: Path) -> None:
        self.emu, self.url, self.tmp = emu, url, tmp
        self.config = tmp / "incidentbot.toml"
        self.config.write_text(CONFIG)
        self.procs: list[subprocess.Popen[bytes]] = []
        self.events = ""

    def env(self, **extra: str) -> dict[str, str]:
        return {"INCIDENTBOT_CONFIG": str(self.config), "INCIDENTBOT_TICK_SECONDS": TICK, **extra}

    def web(self) -> None:
        port = free_port()
        proc = start_serve(self.emu, self.url, port, self.tmp, self.env(INCIDENTBOT_RUN_WORKER="false"))
        self.procs.append(proc)
        wait_until(lambda: healthy(f"http://127.0.0.1:{port}/healthz"))
        self.events = f"http://127.0.0.1:{port}/slack/events"

    def worker(self, **extra: str) -> subprocess.Popen[bytes]:
        port = free_port()
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": self.emu.bot_token,
            "SLACK_API_URL": self.emu.api_url,
            "DATABASE_URL": self.url,
            "LOG_LEVEL": "WARNING",
            "INCIDENTBOT_WORKER_HEALTH_PORT": str(port),
            **self.env(**extra),
        }
        env.pop("SLACK_SIGNING_SECRET", None)  # a worker serves no Slack requests: it needs none
        proc = subprocess.Popen([sys.executable, "-m", "bot", "work"], env=env, cwd=self.tmp)
        self.procs.append(proc)
        wait_until(lambda: healthy(f"http://127.0.0.1:{port}/healthz"))
        time.sleep(0.5)  # its LISTEN is in place a moment after the health endpoint answers
        return proc

    def declare(self, title: str, user: str = "U100") -> None:
        assert self.emu.send_command(self.events, f"declare sev1 {title}", user_id=user).status == 200

    def query(self, sql: str) -> list[tuple[object, ...]]:
        engine = create_engine(self.url, poolclass=pool.NullPool)
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(text(sql))]
        finally:
            engine.dispose()

    def provisioned(self) -> int:
        return int(str(self.query("SELECT count(*) FROM incidents WHERE provisioned_at IS NOT NULL")[0][0]))

    def holder_pid(self, job_id: int = 1) -> int:
        rows = self.query(f"SELECT claimed_by FROM slack_jobs WHERE id = {job_id}")
        return int(str(rows[0][0]).split(":")[1])

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            proc.wait(timeout=20)


@pytest.fixture
def fleet(emulator: SlackEmulator, postgres_url: str, tmp_path: Path) -> Iterator[Fleet]:
    f = Fleet(emulator, postgres_url, tmp_path)
    try:
        yield f
    finally:
        f.stop()


def replies(emu: SlackEmulator) -> list[str]:
    return [str(r.body.get("text", "")) for r in emu.responses]


def test_a_declare_on_the_web_process_is_provisioned_by_a_worker_within_a_second(fleet: Fleet) -> None:
    fleet.web()
    fleet.worker()
    sent = time.monotonic()
    fleet.declare("Checkout down")
    wait_until(lambda: fleet.emu.channel_by_name("inc-1-checkout-down") is not None, seconds=5)
    room_after = time.monotonic() - sent
    wait_until(lambda: fleet.provisioned() == 1, seconds=5)
    # The tick runs every 5 s: a room this soon was made on the web process's NOTIFY.
    assert room_after < 1.0, f"the room took {room_after:.2f}s: the worker waited for its tick"
    wait_until(lambda: any("War room:" in t for t in replies(fleet.emu)), seconds=5)
    assert fleet.emu.channel_by_name("inc-1-checkout-down").members >= {"U100"}  # type: ignore[union-attr]


def test_a_web_process_alone_records_jobs_for_the_workers_and_says_they_are_on_their_way(
    fleet: Fleet,
) -> None:
    fleet.web()
    fleet.declare("Search down")
    # The reply waits a few seconds for a worker, then says honestly that the room is on its way.
    wait_until(lambda: any("on its way" in t for t in replies(fleet.emu)), seconds=10)
    assert fleet.emu.calls_to("conversations.create") == [], "the web process ran the job itself"
    assert fleet.query("SELECT claimed_until, attempts FROM slack_jobs") == [(None, 0)]
    fleet.worker()  # a worker that starts finds what was recorded before it listened
    wait_until(lambda: fleet.provisioned() == 1, seconds=3)


def test_two_workers_run_every_job_of_a_burst_exactly_once(fleet: Fleet) -> None:
    fleet.web()
    fleet.worker()
    fleet.worker()
    burst = 30
    for n in range(burst):
        fleet.declare(f"Outage {n}", user=f"U{100 + n}")
    wait_until(lambda: fleet.provisioned() == burst, seconds=30)
    emu = fleet.emu
    created = [c.args["name"] for c in emu.calls_to("conversations.create") if c.ok]
    assert len(created) == burst == len(set(created)), "a room was created twice"
    for method in ("pins.add", "conversations.setTopic", "conversations.invite"):
        assert len([c for c in emu.calls_to(method) if c.ok]) == burst, method
    announced = emu.channels[emu.channel_by_name("incidents").id].messages  # type: ignore[union-attr]
    assert len(announced) == burst, "an announcement was posted twice"
    for name in created:
        room = emu.channel_by_name(name)
        assert room is not None and len(room.messages) == 1 and len(room.pins) == 1, name
    holders = {row[0] for row in fleet.query("SELECT DISTINCT claimed_by FROM slack_jobs")}
    assert len(holders) == 2, f"one worker ran the whole burst: {holders}"


def test_a_worker_killed_mid_job_is_finished_by_the_other_within_the_lease(fleet: Fleet) -> None:
    fleet.web()
    workers = [fleet.worker(), fleet.worker()]
    fleet.emu.set_latency(30.0, "pins.add")  # the job is held mid-way when its worker dies
    fleet.declare("Payments down")
    wait_until(lambda: fleet.emu.channel_by_name("inc-1-payments-down") is not None, seconds=5)
    wait_until(lambda: len(fleet.emu.calls_to("conversations.setTopic")) == 1, seconds=5)
    holder = next(w for w in workers if w.pid == fleet.holder_pid())
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    killed = time.monotonic()
    fleet.emu.set_latency(0, "pins.add")
    wait_until(lambda: fleet.provisioned() == 1, seconds=15)
    took = time.monotonic() - killed
    assert took < 5.0 + 1.5, f"the survivor took {took:.1f}s: more than the 5 s lease (the tick is 5 s)"
    room = fleet.emu.channel_by_name("inc-1-payments-down")
    assert room is not None and len(room.messages) == 1 and len(room.pins) == 1
    assert len(fleet.emu.calls_to("conversations.create")) == 1


def test_sigterm_on_a_worker_releases_its_jobs_to_the_other_at_once(fleet: Fleet) -> None:
    fleet.web()
    grace = {"INCIDENTBOT_SHUTDOWN_GRACE_SECONDS": "0.5"}
    workers = [fleet.worker(**grace), fleet.worker(**grace)]
    fleet.emu.set_latency(3.0, "pins.add")  # still pinning when the deploy stops its worker
    fleet.declare("Login down")
    wait_until(lambda: len(fleet.emu.calls_to("conversations.setTopic")) == 1, seconds=5)
    holder = next(w for w in workers if w.pid == fleet.holder_pid())
    fleet.emu.set_latency(0, "pins.add")
    holder.send_signal(signal.SIGTERM)
    assert holder.wait(timeout=10) == 0
    stopped = time.monotonic()
    wait_until(lambda: fleet.provisioned() == 1, seconds=10)
    took = time.monotonic() - stopped
    # Released and NOTIFYed on the way out: not left for the 5 s lease to run out or the 5 s tick.
    assert took < 2.0, f"the other worker took {took:.1f}s to resume the released job"
    room = fleet.emu.channel_by_name("inc-1-login-down")
    assert room is not None and len(room.messages) == 1 and len(room.pins) == 1
