"""`kill -9` at random points during declares, many times over: afterwards every room exists exactly once."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.emulator import SlackEmulator
from store.db import make_engine, make_session_factory
from store.models import SlackJob
from store.uow import SqlUnitOfWorkFactory
from tests.scenario.test_serve_process import free_port, healthy, wait_until

ROUNDS = 6
DECLARES_PER_ROUND = 3
SEED = 20240611


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emu:
        emu.add_user("U1", name="alice")
        emu.add_channel("incidents", members={"U1"})
        # Slow enough that a kill lands between Slack calls and between a call and its record.
        emu.set_latency(0.03)
        yield emu


def start(emu: SlackEmulator, database_url: str, port: int) -> subprocess.Popen[bytes]:
    # One user declares every incident here: raise the per-person limit, next to the database.
    config = Path(database_url.removeprefix("sqlite:///")).with_name("incidentbot.toml")
    config.write_text('declare_rate_limit = "1000/1m"\n')
    env = {
        **os.environ,
        "INCIDENTBOT_CONFIG": str(config),
        "SLACK_BOT_TOKEN": emu.bot_token,
        "SLACK_SIGNING_SECRET": emu.signing_secret,
        "SLACK_API_URL": emu.api_url,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "LOG_LEVEL": "ERROR",
        "INCIDENTBOT_JOB_LEASE_SECONDS": "1.5",
        "INCIDENTBOT_TICK_SECONDS": "0.2",
    }
    env.pop("SLACK_APP_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, stderr=subprocess.DEVNULL)
    wait_until(lambda: healthy(f"http://127.0.0.1:{port}/healthz"))
    return proc


def declare_in_background(emu: SlackEmulator, url: str, title: str, acked: list[str]) -> threading.Thread:
    def send() -> None:
        # Killed while answering: Slack would show the user a timeout.
        with contextlib.suppress(OSError):
            ack = emu.send_command(url, f"declare sev2 {title}")
            if ack.status == 200 and "Declared *INC-" in ack.json()["text"]:
                acked.append(title)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def test_kill_minus_nine_during_declares_leaves_every_incident_provisioned_once(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    database_url = f"sqlite:///{tmp_path / 'bot.db'}"
    port = free_port()
    url = f"http://127.0.0.1:{port}/slack/events"
    acked: list[str] = []
    for round_ in range(ROUNDS):
        proc = start(emulator, database_url, port)
        senders = [
            declare_in_background(emulator, url, f"Outage {round_}-{n}", acked)
            for n in range(DECLARES_PER_ROUND)
        ]
        time.sleep(rng.uniform(0.0, 0.8))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        for sender in senders:
            sender.join(timeout=10)

    resumed = assert_every_incident_provisioned_once(emulator, database_url, port, acked)
    assert any(len(steps) > 0 for steps in resumed), "some kills landed part-way through a provisioning"
    assert len(set(acked)) >= ROUNDS, "most declares were acknowledged before their kill"


def assert_every_incident_provisioned_once(
    emulator: SlackEmulator, database_url: str, port: int, acked: list[str]
) -> list[list[str]]:
    """Restart the bot, let it finish, check every recorded (and acked) incident; return resumed steps."""
    engine = make_engine(database_url)
    uow = SqlUnitOfWorkFactory(make_session_factory(engine))

    def all_provisioned() -> bool:
        with uow() as tx:
            incidents = tx.incidents.list_since()
            return bool(incidents) and all(i.provisioned_at is not None for i in incidents)

    proc = start(emulator, database_url, port)
    try:
        wait_until(all_provisioned, seconds=60)
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    with uow() as tx:
        incidents = list(tx.incidents.list_since())
        for incident in incidents:
            tx.session.expunge(incident)
        timelines = {i.id: Counter(e.kind for e in tx.timeline.list_for(i.id)) for i in incidents}
        pending = sum(len(tx.jobs.pending_for(i.id)) for i in incidents)
        resumed = tx.session.scalars(select(SlackJob.done_steps).where(SlackJob.attempts > 1)).all()
    engine.dispose()
    assert pending == 0
    assert resumed, "some kills landed before a provisioning finished"
    titles = Counter(i.title for i in incidents)
    assert all(titles[title] == 1 for title in acked), (
        f"acknowledged but lost or doubled: {acked} vs {titles}"
    )
    channels = emulator.channels
    announce = emulator.channel_by_name("incidents")
    assert announce is not None
    announced = Counter(m.metadata["event_payload"]["incident_id"] for m in announce.messages if m.metadata)
    for incident in incidents:
        rooms = [c for c in channels.values() if c.name.startswith(f"inc-{incident.id}-")]
        assert [c.id for c in rooms] == [incident.channel_id], f"INC-{incident.id}: {[c.name for c in rooms]}"
        room = rooms[0]
        summaries = [m for m in room.messages if m.metadata.get("event_type") == "incident_declared"]
        assert len(summaries) == 1 and summaries[0].ts in room.pins, f"INC-{incident.id} summary"
        assert "U1" in room.members
        assert incident.title in room.topic
        assert announced[incident.id] == 1, f"INC-{incident.id} announced {announced[incident.id]} times"
        for kind in ("declared", "room_created", "summary_posted", "summary_pinned", "announced"):
            assert timelines[incident.id][kind] == 1, f"INC-{incident.id} {kind}: {timelines[incident.id]}"
    return [list(steps) for steps in resumed]


def test_kill_straight_after_the_acknowledgements_loses_no_declared_incident(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    """Aimed at the window between telling the person "Declared" and provisioning the room."""
    database_url = f"sqlite:///{tmp_path / 'bot.db'}"
    port = free_port()
    url = f"http://127.0.0.1:{port}/slack/events"
    emulator.set_latency(1.0)  # Slack slow: no room can be finished before the kill
    proc = start(emulator, database_url, port)
    acks = [emulator.send_command(url, f"declare sev2 Acked {n}").json()["text"] for n in range(3)]
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    # Alike titles: the later ones also say "Possibly the same as" on a line of their own.
    assert [ack.split("\n")[0] for ack in acks] == [
        f":rotating_light: Declared *INC-{n + 1}*: Acked {n}. Opening its war room…" for n in range(3)
    ]
    emulator.set_latency(0.0)
    assert_every_incident_provisioned_once(emulator, database_url, port, [f"Acked {n}" for n in range(3)])


def test_kill_straight_after_acknowledging_an_update_still_posts_it_once(
    emulator: SlackEmulator, tmp_path: Path
) -> None:
    """The same window for a change to an existing incident: the update is committed before its ack."""
    database_url = f"sqlite:///{tmp_path / 'bot.db'}"
    port = free_port()
    url = f"http://127.0.0.1:{port}/slack/events"
    proc = start(emulator, database_url, port)
    engine = make_engine(database_url)
    uow = SqlUnitOfWorkFactory(make_session_factory(engine))

    def room() -> str | None:
        with uow() as tx:
            incident = tx.incidents.get(1)
            return incident.channel_id if incident and incident.provisioned_at else None

    try:
        emulator.send_command(url, "declare sev2 Checkout is timing out")
        wait_until(lambda: room() is not None, seconds=30)
        war_room = room()
        assert war_room is not None
        emulator.set_latency(1.0)  # Slack slow: the update cannot be posted before the kill
        # Another writer holds the database for 0.3 s, so the update's commit cannot happen at once: an
        # ack sent before the commit would be followed by the kill with nothing recorded.
        holder = sqlite3.connect(
            tmp_path / "bot.db", timeout=0, isolation_level=None, check_same_thread=False
        )
        holder.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.3, holder.execute, ("ROLLBACK",))
        release.start()
        ack = emulator.send_command(url, "update identified Rolling back the deploy", channel_id=war_room)
        proc.send_signal(signal.SIGKILL)
        release.join()
        holder.close()
        proc.wait(timeout=10)
        assert ack.status == 200
        emulator.set_latency(0.0)
        proc = start(emulator, database_url, port)

        def posted() -> list[str]:
            return [m.text for m in emulator.channels[war_room].messages if "Rolling back" in m.text]

        wait_until(lambda: bool(posted()), seconds=30)
        time.sleep(1.0)  # a second post, if one were coming, would land by now
        assert len(posted()) == 1
        with uow() as tx:
            kinds = [e.kind for e in tx.timeline.list_for(1)]
        assert kinds.count("update_posted") == 1
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        engine.dispose()
