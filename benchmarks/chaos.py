"""Chaos run: real traffic at two replicas on PostgreSQL while Slack fails and processes are killed.

For a fixed time, seeded, it drives a mix of signed requests (declares, updates, notes, action items,
assignments, escalations, pins, snooze clicks, resolves) at two `incidentbot serve` processes sharing one
PostgreSQL database, while the emulator injects 429s, 5xx and timeouts and the harness `kill -9`s and
restarts a process at random. Then it lets the survivors finish and checks, from the database and from
what the emulator received, that every acknowledged action was recorded once and reached Slack once, in
order per incident, with no reminder doubled or missed and nothing left running.

    python -m benchmarks.chaos --postgres URL [--seconds 600] [--seed 7]

URL names a server where the user may create databases; the run makes its own database and drops it.
With INCIDENTBOT_CHAOS_LOG_DIR=DIR, each replica logs (INFO) to DIR/replica-PORT.log and every update
found out of order is traced to DIR/trace.txt: its messages, and the posts the emulator received.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, make_url, pool, select
from sqlalchemy.exc import ProgrammingError

from bot.emulator import SlackEmulator
from bot.ops.migrate import upgrade
from bot.slack.ids import ActionId
from store.db import make_engine, make_session_factory
from store.models import BotPost, Incident, SlackJob, TimelineEvent
from store.uow import SqlUnitOfWorkFactory

USERS = {"U1": "alice", "U2": "bob", "U3": "carol", "U4": "dave", "U5": "eve"}
CONFIG = """
announce_channel = "incidents"
declare_rate_limit = "10000/1m"  # one harness user declares for a whole team
[permissions]
resolve = ["anyone"]
lower_severity = ["anyone"]
[severities.sev1]
update_every = "6s"
commander_timeout = "1h"
[severities.sev2]
update_every = "9s"
commander_timeout = "1h"
"""
# Methods a fault may hit, and what the faults are.
FAULTY_METHODS = (
    "conversations.create",
    "conversations.invite",
    "conversations.setTopic",
    "chat.postMessage",
    "chat.update",
    "pins.add",
    "users.info",
    "conversations.history",
)
SLACK_TIMEOUT = 1  # seconds; a "timeout" fault answers after this, having acted
ACTION_WEIGHTS = {
    "declare": 14,
    "update": 22,
    "note": 12,
    "action": 6,
    "assign": 10,
    "escalate": 7,
    "pin": 10,
    "snooze": 6,
    "resolve": 5,
}


@dataclass
class Report:
    """What the run did and every invariant it found broken."""

    seed: int
    seconds: float
    actions: Counter[str] = field(default_factory=Counter)
    acknowledged: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    kills: int = 0
    kill_times: list[float] = field(default_factory=list)  # wall-clock times of each kill -9
    incidents: int = 0
    slack_calls: int = 0
    violations: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Lines for the terminal and for docs/reliability.md."""
        actions = ", ".join(f"{k} {v}" for k, v in sorted(self.actions.items()))
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items()))
        lines = [
            f"seed {self.seed}, {self.seconds:.0f} s of traffic, 2 replicas on PostgreSQL",
            f"actions: {sum(self.actions.values())} ({actions}); acknowledged: "
            f"{sum(self.acknowledged.values())}",
            f"faults injected: {sum(self.faults.values())} ({faults}); kill -9 and restart: {self.kills}",
            f"incidents: {self.incidents}; Web API calls: {self.slack_calls}",
            f"violations: {len(self.violations)}",
            *[f"  - {v}" for v in self.violations],
        ]
        return "\n".join(lines)


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback
            return bool(response.status == 200)
    except OSError:
        return False


@dataclass
class Replica:
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"


@dataclass
class Known:
    """What the harness knows of an incident it declared (and was told about)."""

    number: int
    room: str | None = None
    resolved: bool = False


class Chaos:
    """One seeded run: two replicas, a traffic thread, a fault thread, a killer; then the checks."""

    def __init__(self, emu: SlackEmulator, database_url: str, workdir: Path, seed: int) -> None:
        self.emu, self.database_url, self.workdir = emu, database_url, workdir
        self.rng = random.Random(seed)
        self.faults_rng = random.Random(seed + 1)
        self.kill_rng = random.Random(seed + 2)
        self.report = Report(seed=seed, seconds=0)
        self.replicas: list[Replica] = []
        self.lock = threading.Lock()
        self.incidents: dict[int, Known] = {}
        self.acked_updates: list[tuple[int, str]] = []
        self.acked_notes: list[tuple[int, str]] = []
        self.acked_pins: list[tuple[int, str]] = []
        self.declared_titles: dict[str, int] = {}
        self.stop = threading.Event()
        self.config = workdir / "incidentbot.toml"
        self.config.write_text(CONFIG)

    # -- processes ------------------------------------------------------------------------------------
    def start_replica(self) -> Replica:
        port = free_port()
        log_dir = os.environ.get("INCIDENTBOT_CHAOS_LOG_DIR")
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": self.emu.bot_token,
            "SLACK_SIGNING_SECRET": self.emu.signing_secret,
            "SLACK_API_URL": self.emu.api_url,
            "DATABASE_URL": self.database_url,
            "INCIDENTBOT_CONFIG": str(self.config),
            "PORT": str(port),
            "LOG_LEVEL": "INFO" if log_dir else "CRITICAL",
            # Longer than a timed-out call may stay in flight at Slack (SLACK_TIMEOUT + the fault's 0.5 s),
            # so a takeover's look-up sees whatever a killed process's last call did.
            "INCIDENTBOT_JOB_LEASE_SECONDS": "4",
            "INCIDENTBOT_TICK_SECONDS": "0.2",
            "INCIDENTBOT_SLACK_TIMEOUT_SECONDS": str(SLACK_TIMEOUT),
            "INCIDENTBOT_MIGRATE_ON_START": "false",
        }
        env.pop("SLACK_APP_TOKEN", None)
        # With INCIDENTBOT_CHAOS_LOG_DIR set, each replica's log goes to <dir>/replica-<port>.log.
        log = open(Path(log_dir) / f"replica-{port}.log", "wb") if log_dir else None  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log or subprocess.DEVNULL,
            cwd=self.workdir,
        )
        if log is not None:
            log.close()
        deadline = time.monotonic() + 30
        while not healthy(f"http://127.0.0.1:{port}/healthz"):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("a replica did not start")
            time.sleep(0.05)
        return Replica(port, proc)

    def live_url(self) -> str:
        with self.lock:
            return self.rng.choice(self.replicas).url

    def killer(self) -> None:
        # Kills are 5 to 9 s apart however long a replacement takes to start (seconds on a busy machine).
        last = time.monotonic()
        while not self.stop.wait(max(last + self.kill_rng.uniform(5.0, 9.0) - time.monotonic(), 0.0)):
            last = time.monotonic()
            with self.lock:
                victim = self.kill_rng.randrange(len(self.replicas))
                old = self.replicas.pop(victim)
            old.proc.send_signal(signal.SIGKILL)
            self.report.kill_times.append(time.time())
            old.proc.wait(timeout=10)
            self.report.kills += 1
            replacement = self.start_replica()
            with self.lock:
                self.replicas.append(replacement)

    # -- Slack faults ---------------------------------------------------------------------------------
    def fault_injector(self) -> None:
        rng = self.faults_rng
        while not self.stop.wait(rng.uniform(0.4, 1.2)):
            method = rng.choice(FAULTY_METHODS)
            kind = rng.choice(("5xx", "429", "timeout"))
            if kind == "5xx":
                self.emu.fail(method, status=rng.choice((500, 502, 503)), times=rng.randint(1, 3))
            elif kind == "429":
                self.emu.rate_limit(method, retry_after=1, times=rng.randint(1, 2))
            else:
                # Slack acts, then answers after the client has given up.
                self.emu.set_latency(SLACK_TIMEOUT + 0.5, method)
                self.stop.wait(rng.uniform(0.3, 1.0))
                self.emu.set_latency(0, method)
            self.report.faults[kind] += 1

    # -- traffic --------------------------------------------------------------------------------------
    def open_incidents(self) -> list[Known]:
        with self.lock:
            return [i for i in self.incidents.values() if i.room and not i.resolved]

    def room_of(self, number: int) -> str | None:
        with self.lock:
            known = self.incidents[number]
        if known.room is None:
            with self._uow() as tx:
                incident = tx.incidents.get(number)
                known.room = incident.channel_id if incident is not None else None
        return known.room

    def send(self, text: str, channel: str, user: str) -> tuple[bool, str]:
        """Deliver a slash command; acknowledged means a 200 that does not say it was not done."""
        try:
            result = self.emu.send_command(self.live_url(), text, user_id=user, channel_id=channel)
        except OSError:
            return False, ""  # the replica died under the request: never acknowledged
        body = result.body
        refused = any(word in body for word in ("try again", "taking longer", "not answering"))
        return result.status == 200 and not refused, body

    def traffic(self) -> None:
        kinds, weights = zip(*ACTION_WEIGHTS.items(), strict=True)
        while not self.stop.is_set():
            kind = self.rng.choices(kinds, weights)[0]
            self.report.actions[kind] += 1
            if getattr(self, f"do_{kind}")():
                self.report.acknowledged[kind] += 1
            time.sleep(self.rng.uniform(0.02, 0.12))

    def _token(self) -> str:
        return uuid.UUID(int=self.rng.getrandbits(128)).hex[:10]

    def do_declare(self) -> bool:
        title = f"Chaos {self._token()}"
        severity = self.rng.choice(("sev1", "sev2"))
        ok, body = self.send(f"declare {severity} {title}", self.emu.general_channel_id, "U1")
        if ok and "Declared *INC-" in body:
            number = int(body.split("Declared *INC-")[1].split("*")[0])
            with self.lock:
                self.incidents[number] = Known(number)
                self.declared_titles[title] = number
            return True
        return False

    def _pick(self) -> Known | None:
        with self.lock:
            candidates = [i for i in self.incidents.values() if not i.resolved]
        self.rng.shuffle(candidates)
        for known in candidates:
            if self.room_of(known.number):
                return known
        return None

    def do_update(self) -> bool:
        known = self._pick()
        if known is None:
            return False
        text = f"step {self._token()}"
        ok, _ = self.send(f"update identified {text}", str(known.room), "U2")
        if ok:
            with self.lock:
                self.acked_updates.append((known.number, text))
        return ok

    def do_note(self) -> bool:
        known = self._pick()
        if known is None:
            return False
        text = f"note {self._token()}"
        ok, _ = self.send(f"note {text}", str(known.room), "U3")
        if ok:
            with self.lock:
                self.acked_notes.append((known.number, text))
        return ok

    def do_action(self) -> bool:
        known = self._pick()
        if known is None:
            return False
        return self.send(f"action follow up {self._token()}", str(known.room), "U2")[0]

    def do_assign(self) -> bool:
        known = self._pick()
        if known is None:
            return False
        role = self.rng.choice(("commander", "comms", "scribe"))
        user = self.rng.choice(list(USERS))
        return self.send(f"assign {role} <@{user}>", str(known.room), "U1")[0]

    def do_escalate(self) -> bool:
        known = self._pick()
        if known is None:
            return False
        people = " ".join(f"<@{u}>" for u in self.rng.sample(list(USERS), 2))
        return self.send(f"escalate {people}", str(known.room), "U2")[0]

    def do_pin(self) -> bool:
        known = self._pick()
        if known is None or known.room is None:
            return False
        self.emu.state.channels[known.room].members.add("U4")
        ts = self.emu.post_as_user(known.room, "U4", f"graph {self._token()}")
        try:
            result = self.emu.react(self.live_url(), user_id="U1", channel_id=known.room, ts=ts)
        except OSError:
            return False
        if result.status == 200:
            with self.lock:
                self.acked_pins.append((known.number, ts))
            return True
        return False

    def do_snooze(self) -> bool:
        known = self._pick()
        if known is None or known.room is None:
            return False
        reminders = [
            m
            for m in self.emu.state.channels[known.room].messages
            if (m.metadata or {}).get("event_type") == "incident_update_reminder"
        ]
        if not reminders:
            return False
        try:
            result = self.emu.click_button(
                self.live_url(),
                user_id="U2",
                channel_id=known.room,
                message_ts=reminders[-1].ts,
                action_id=ActionId.SNOOZE.value,
                value=self.rng.choice(("15m", "30m")),
            )
        except OSError:
            return False
        return result.status == 200

    def do_resolve(self) -> bool:
        known = self._pick()
        if known is None:
            return False
        ok, _ = self.send("resolve fixed", str(known.room), "U1")
        if ok:
            with self.lock:
                known.resolved = True
        return ok

    # -- the run --------------------------------------------------------------------------------------
    @contextmanager
    def _uow(self) -> Iterator[Any]:
        engine = make_engine(self.database_url)
        try:
            with SqlUnitOfWorkFactory(make_session_factory(engine))() as tx:
                yield tx
        finally:
            engine.dispose()

    def run(self, seconds: float) -> Report:
        upgrade(self.database_url)
        self.replicas = [self.start_replica(), self.start_replica()]
        threads = [threading.Thread(target=t, daemon=True) for t in (self.traffic, self.fault_injector)]
        killer = threading.Thread(target=self.killer, daemon=True)
        started = time.monotonic()
        for thread in [*threads, killer]:
            thread.start()
        try:
            self.stop.wait(seconds)
        finally:
            self.stop.set()
            for thread in [*threads, killer]:
                thread.join(timeout=60)
            self.report.seconds = time.monotonic() - started
            self.emu.clear_faults()
            self.settle()
            for replica in self.replicas:
                replica.proc.terminate()
            for replica in self.replicas:
                replica.proc.wait(timeout=30)
        Checker(self).check()
        return self.report

    def settle(self, timeout: float = 90.0) -> None:
        """Let the survivors finish every owed job (their ticks resume what the killed ones held)."""
        deadline = time.monotonic() + timeout
        engine = make_engine(self.database_url)
        try:
            while time.monotonic() < deadline:
                with engine.connect() as conn:
                    owed = conn.execute(
                        select(SlackJob.id).where(SlackJob.finished_at.is_(None)).limit(1)
                    ).first()
                if owed is None:
                    time.sleep(2.0)  # a last tick may still claim a reminder
                    return
                time.sleep(0.5)
        finally:
            engine.dispose()


class Checker:
    """Read the database and the emulator; record every broken invariant as a sentence."""

    def __init__(self, chaos: Chaos) -> None:
        self.c = chaos
        self.emu = chaos.emu
        self.violations = chaos.report.violations

    def fail(self, text: str) -> None:
        self.violations.append(text)

    def posts(self, channel: str, event_type: str, incident: int) -> list[Any]:
        return [
            m
            for m in self.emu.state.channels[channel].messages
            if (m.metadata or {}).get("event_type") == event_type
            and (m.metadata or {}).get("event_payload", {}).get("incident_id") == incident
        ]

    def check(self) -> None:
        engine = make_engine(self.c.database_url)
        try:
            with engine.connect() as conn:
                incidents = {i.id: i for i in conn.execute(select(Incident)).all()}
                events = conn.execute(select(TimelineEvent).order_by(TimelineEvent.id)).all()
                jobs = conn.execute(select(SlackJob)).all()
                posts = conn.execute(select(BotPost)).all()
        finally:
            engine.dispose()
        report = self.c.report
        report.incidents = len(incidents)
        report.slack_calls = len(self.emu.calls)
        announce = self.emu.channel_by_name("incidents")
        assert announce is not None
        by_incident: dict[int, list[Any]] = {}
        for event in events:
            by_incident.setdefault(event.incident_id, []).append(event)

        for number in self.c.incidents:
            if number not in incidents:
                self.fail(f"INC-{number} was acknowledged as declared but is not in the database")
        created = Counter(
            c.args.get("name", "").split("-")[1]
            for c in self.emu.calls_to("conversations.create")
            if c.ok and str(c.args.get("name", "")).startswith("inc-")
        )
        for number, incident in incidents.items():
            ref = f"INC-{number}"
            if created[str(number)] != 1:
                self.fail(f"{ref}: {created[str(number)]} rooms created")
            room = incident.channel_id
            if room is None or incident.provisioned_at is None:
                self.fail(f"{ref}: room not finished")
                continue
            kinds = Counter(
                e.kind + (":resolution" if "resolution" in e.text else "")
                for e in by_incident.get(number, [])
            )
            for once in ("declared", "room_created", "summary_posted", "summary_pinned", "announced"):
                if kinds[once] != 1:
                    self.fail(f"{ref}: timeline has {kinds[once]} '{once}' events")
            if kinds["announced:resolution"] > 1:
                self.fail(f"{ref}: the resolution was announced {kinds['announced:resolution']} times")
            summaries = self.posts(room, "incident_declared", number)
            if len(summaries) != 1 or summaries[0].ts not in self.emu.state.channels[room].pins:
                self.fail(f"{ref}: {len(summaries)} summaries in the room (or not pinned)")
            if len(self.posts(announce.id, "incident_declared", number)) != 1:
                self.fail(
                    f"{ref}: announced {len(self.posts(announce.id, 'incident_declared', number))} times"
                )
            self.check_updates(ref, number, room, announce.id, by_incident.get(number, []))
            self.check_reminders(ref, number, room)
            resolved = self.posts(room, "incident_resolved", number)
            if (incident.status == "resolved") != (len(resolved) == 1):
                self.fail(f"{ref}: status {incident.status} but {len(resolved)} resolution posts")
            for event in by_incident.get(number, []):
                if event.kind == "escalated":
                    self.check_pages(ref, event)
        self.check_acked(by_incident)
        for job in jobs:
            if job.finished_at is None:
                self.fail(f"job {job.id} ({job.kind}, INC-{job.incident_id}) still owed after the run")
            elif job.last_error:
                self.fail(f"job {job.id} ({job.kind}, INC-{job.incident_id}) gave up: {job.last_error}")
        purposes = Counter((p.incident_id, p.purpose) for p in posts)
        for (incident_id, purpose), count in purposes.items():
            if count > 1:
                self.fail(f"INC-{incident_id}: post '{purpose}' recorded {count} times")

    def check_updates(self, ref: str, number: int, room: str, announce: str, events: list[Any]) -> None:
        recorded = [e.text for e in events if e.kind == "update_posted"]
        in_room = [m.text for m in self.posts(room, "incident_update", number)]
        in_announce = [m.text for m in self.posts(announce, "incident_update", number)]

        def order(texts: list[str]) -> list[str]:
            return [next((r for r in recorded if r in t), "?") for t in texts]

        if order(in_room) != recorded:
            self.fail(f"{ref}: room updates {order(in_room)} differ from the timeline {recorded}")
            self.trace(number, room, "incident_update")
        if order(in_announce) != recorded:
            self.fail(f"{ref}: announced updates {order(in_announce)} differ from the timeline {recorded}")
            self.trace(number, announce, "incident_update")

    def trace(self, number: int, channel: str, event_type: str) -> None:
        """With INCIDENTBOT_CHAOS_LOG_DIR set, write what the emulator saw of these posts, to find why."""
        log_dir = os.environ.get("INCIDENTBOT_CHAOS_LOG_DIR")
        if not log_dir:
            return
        offset = time.time() - time.monotonic()  # the emulator stamps calls with the shared monotonic clock
        lines = [f"INC-{number} {event_type} in {channel}; kills at {self.c.report.kill_times}"]
        lines += [f"  message ts={m.ts} {m.text[:60]!r}" for m in self.posts(channel, event_type, number)]
        for call in self.emu.calls_to("chat.postMessage"):
            meta = call.args.get("metadata") or {}
            payload = meta.get("event_payload") or {} if isinstance(meta, dict) else {}
            if payload.get("incident_id") == number and meta.get("event_type") == event_type:
                lines.append(
                    f"  call at={call.at + offset:.3f} channel={call.args.get('channel')} "
                    f"status={call.status} error={call.error} key={payload.get('key')} "
                    f"{str(call.args.get('text'))[:60]!r}"
                )
        with open(Path(log_dir) / "trace.txt", "a") as out:
            out.write("\n".join(lines) + "\n")

    def check_reminders(self, ref: str, number: int, room: str) -> None:
        keys = Counter(
            str(m.metadata["event_payload"].get("key"))
            for m in self.posts(room, "incident_update_reminder", number)
        )
        for key, count in keys.items():
            if count > 1:
                self.fail(f"{ref}: reminder {key} posted {count} times")

    def check_pages(self, ref: str, event: Any) -> None:
        paged = event.data.get("paged") or []
        for user in paged:
            seen = sum(
                1
                for chan in self.emu.state.channels.values()
                if chan.is_im and user in chan.members
                for m in chan.messages
                if (m.metadata or {}).get("event_type") == "incident_paged"
                and str((m.metadata or {}).get("event_payload", {}).get("key", "")).startswith(
                    f"page:{event.id}:"
                )
            )
            if seen > 1:
                self.fail(f"{ref}: {user} paged {seen} times for one escalation")

    def check_acked(self, by_incident: dict[int, list[Any]]) -> None:
        for number, text in self.c.acked_updates:
            found = [e for e in by_incident.get(number, []) if e.kind == "update_posted" and text in e.text]
            if len(found) != 1:
                self.fail(f"INC-{number}: acknowledged update '{text}' recorded {len(found)} times")
        for number, text in self.c.acked_notes:
            found = [e for e in by_incident.get(number, []) if e.kind == "note" and e.text == text]
            if len(found) != 1:
                self.fail(f"INC-{number}: acknowledged note '{text}' recorded {len(found)} times")
        for number, ts in self.c.acked_pins:
            found = [e for e in by_incident.get(number, []) if e.kind == "pinned" and e.message_ts == ts]
            if len(found) != 1:
                self.fail(f"INC-{number}: acknowledged pin {ts} recorded {len(found)} times")


@contextmanager
def scratch_database(server_url: str, prefix: str = "incidentbot_chaos") -> Iterator[str]:
    """A database of its own on the server (the user may create databases), dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            _drop_database(admin, name)
    finally:
        admin.dispose()


def _drop_database(admin: Engine, name: str, attempts: int = 20) -> None:
    """Drop a scratch database, retried while a backend of another role (an autovacuum worker, which FORCE
    may not terminate without pg_signal_backend) still holds it; on a throwaway server it may stay after."""
    for _ in range(attempts):
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except ProgrammingError as exc:
            if "must be a member of the role" not in str(exc.orig):
                raise
            time.sleep(0.25)


def run(database_url: str, *, seconds: float, seed: int) -> Report:
    """One chaos run against a migrated-or-empty PostgreSQL database; returns its report."""
    with SlackEmulator() as emu, tempfile.TemporaryDirectory(prefix="incidentbot-chaos-") as tmp:
        for user, name in USERS.items():
            emu.add_user(user, name=name)
        emu.add_channel("incidents", members=set(USERS))
        emu.file_share_delay = 0.2
        return Chaos(emu, database_url, Path(tmp), seed).run(seconds)


def main(argv: list[str] | None = None) -> int:
    """`python -m benchmarks.chaos`: print the report; exit 1 when an invariant broke."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", required=True, help="server URL (a database is created and dropped)")
    parser.add_argument("--seconds", type=float, default=600.0, help="how long traffic runs (default 600)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    with scratch_database(args.postgres) as url:
        report = run(url, seconds=args.seconds, seed=args.seed)
    print(report.summary())
    return 1 if report.violations else 0


if __name__ == "__main__":
    sys.exit(main())
