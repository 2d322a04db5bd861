"""Shared harness: a throwaway database, the real app over loopback HTTP, and recorders of its work."""

from __future__ import annotations

import re
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from pydantic import SecretStr
from slack_sdk import WebClient
from sqlalchemy import Engine, create_engine, event, make_url, pool

from benchmarks.load import post
from bot.app import IncidentBot, create_app
from bot.emulator import SlackEmulator
from bot.emulator.signing import sign_request
from bot.emulator.state import APP_ID, TEAM_DOMAIN, VERIFICATION_TOKEN
from bot.ops.config import IncidentConfig
from bot.ops.local import LocalServer
from bot.ops.migrate import upgrade
from bot.ops.settings import Settings
from bot.slack.client import make_web_client

USERS = {"U1": "alice", "U2": "bob", "U3": "carol", "U4": "dave"}
# The user group escalate pages: usergroups.users.list resolves it to these members.
PAGED_GROUP = ("S1", "db-oncall", ["U3", "U4"])


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile: with few samples the worst one stays visible instead of interpolated away."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    """Median that tolerates an empty list, so a failed sub-run shows as NaN rather than crashing."""
    return statistics.median(values) if values else float("nan")


@contextmanager
def database(postgres_server: str | None, workdir: Path) -> Iterator[str]:
    """A fresh, migrated database (SQLite file or a throwaway PostgreSQL database) dropped afterwards."""
    if not postgres_server:
        url = f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:8]}.db'}"
        upgrade(url)
        yield url
        return
    name = f"incidentbot_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
        try:
            upgrade(url)
            yield url
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@contextmanager
def workdir() -> Iterator[Path]:
    """A temporary directory for SQLite files and child-process output."""
    with tempfile.TemporaryDirectory(prefix="incidentbot-bench-") as tmp:
        yield Path(tmp)


BENCH_DECLARE_LIMIT = "1000000/1m"


def bench_config() -> IncidentConfig:
    """Default config, except that one user may resolve and declare at will (the benchmark is one user)."""
    fields = IncidentConfig.model_fields
    extra: dict[str, Any] = {"permissions": {"resolve": ["anyone"]}} if "permissions" in fields else {}
    if "declare_rate_limit" in fields:  # still counted: the figures include what the limit costs
        extra["declare_rate_limit"] = BENCH_DECLARE_LIMIT
    return IncidentConfig.model_validate(extra)


def start_emulator(config: IncidentConfig) -> tuple[SlackEmulator, str, str]:
    """Start the emulator with the users and channels a declare needs; return it, #general and announce."""
    emu = SlackEmulator().start()
    for user, name in USERS.items():
        emu.add_user(user, name=name)
    group_id, handle, members = PAGED_GROUP
    emu.add_usergroup(group_id, handle=handle, users=members)
    existing = emu.channel_by_name("general")
    general = existing.id if existing else emu.add_channel("general", members=set(USERS))
    announce = emu.add_channel(config.announce_channel, members=set(USERS))
    return emu, general, announce


def settings_for(emu: SlackEmulator, database_url: str) -> Settings:
    """The bot's environment pointing at the emulator and the benchmark database."""
    return Settings(
        slack_bot_token=SecretStr(emu.bot_token),
        slack_signing_secret=SecretStr(emu.signing_secret),
        slack_api_url=emu.api_url,
        database_url=database_url,
    )


def command_request(
    emu: SlackEmulator, text: str, *, user: str = "U1", channel: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """A signed slash-command body and headers, built before timing so only the HTTP exchange counts."""
    channel_id = channel or emu.general_channel_id
    form = {
        "token": VERIFICATION_TOKEN,
        "team_id": emu.team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": "general",
        "user_id": user,
        "user_name": USERS.get(user, user.lower()),
        "command": "/incident",
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": emu.new_response_url(channel_id, user),
        "trigger_id": emu.new_trigger_id(user),
    }
    body = urlencode(form).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign_request(emu.signing_secret, body)}
    return body, headers


_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", re.IGNORECASE)


def shape(statement: str) -> str:
    """A statement's kind and first table ("SELECT incidents"): enough to see which reads repeat."""
    kind = statement.split(None, 1)[0].upper()
    found = _TABLE.search(statement)
    return f"{kind} {found.group(1)}" if found else kind


@dataclass(frozen=True)
class ApiCall:
    """One Web API call as the bot's client made it (retries inside it included)."""

    method: str
    channel: str
    started: float
    ended: float
    thread: int


@dataclass(frozen=True)
class Transaction:
    """One database transaction on the bot's engine, from BEGIN to COMMIT or ROLLBACK."""

    started: float
    ended: float
    thread: int
    statements: int
    outcome: str


@dataclass
class Recorder:
    """Statements, transactions and Web API calls of the app, timestamped on one clock for overlap checks."""

    statements: list[tuple[float, str]] = field(default_factory=list)
    # "SELECT slack_jobs", "INSERT timeline_events": kind plus table, so a finding can name what repeats.
    shapes: list[str] = field(default_factory=list)
    transactions: list[Transaction] = field(default_factory=list)
    api_calls: list[ApiCall] = field(default_factory=list)
    _open: dict[int, tuple[float, int, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        """Forget everything recorded so far (between measured actions)."""
        with self._lock:
            self.statements.clear()
            self.shapes.clear()
            self.transactions.clear()
            self.api_calls.clear()

    def attach_engine(self, engine: Engine) -> None:
        """Listen on the app's own engine: every statement and every BEGIN/COMMIT/ROLLBACK."""
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", lambda conn: self._end(conn, "commit"))
        event.listen(engine, "rollback", lambda conn: self._end(conn, "rollback"))

    def attach_client(self, client: WebClient) -> None:
        """Wrap the client's api_call on this instance so each call's start, end and thread are known."""
        original: Callable[..., Any] = client.api_call

        def api_call(method: str, *args: Any, **kwargs: Any) -> Any:
            payload = kwargs.get("json") or kwargs.get("params") or {}
            started = time.perf_counter()
            try:
                return original(method, *args, **kwargs)
            finally:
                call = ApiCall(
                    method,
                    str(payload.get("channel", "")),
                    started,
                    time.perf_counter(),
                    threading.get_ident(),
                )
                with self._lock:
                    self.api_calls.append(call)

        setattr(client, "api_call", api_call)  # noqa: B010 - instance patch, the product class is untouched

    def _statement(self, conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        with self._lock:
            self.statements.append((time.perf_counter(), statement.split(None, 1)[0].upper()))
            self.shapes.append(shape(statement))
            key = id(conn)
            if key in self._open:
                started, thread, count = self._open[key]
                self._open[key] = (started, thread, count + 1)

    def _begin(self, conn: Any) -> None:
        with self._lock:
            self._open[id(conn)] = (time.perf_counter(), threading.get_ident(), 0)

    def _end(self, conn: Any, outcome: str) -> None:
        ended = time.perf_counter()
        with self._lock:
            opened = self._open.pop(id(conn), None)
            if opened is not None:
                started, thread, count = opened
                self.transactions.append(Transaction(started, ended, thread, count, outcome))

    def overlaps(self) -> list[tuple[Transaction, ApiCall]]:
        """Pairs of a transaction and a Web API call made on the same thread while it was open."""
        with self._lock:
            txs, calls = list(self.transactions), list(self.api_calls)
        return [
            (tx, call)
            for tx in txs
            for call in calls
            if call.thread == tx.thread and call.started < tx.ended and call.ended > tx.started
        ]


@dataclass
class InProcessApp:
    """The real app (Bolt, waitress, worker pool, engine) in this process, recorded, driven over HTTP."""

    emu: SlackEmulator
    bot: IncidentBot
    server: LocalServer
    recorder: Recorder
    general: str
    announce: str

    @property
    def url(self) -> str:
        return self.server.events_url

    def command(self, text: str, *, channel: str | None = None, user: str = "U1") -> int:
        """Deliver one signed slash command and wait for all the work it started."""
        body, headers = command_request(self.emu, text, user=user, channel=channel or self.general)
        status, _ = post(self.url, body, headers)
        self.bot.runtime.drain()
        return status

    def declare(self, title: str = "Checkout is timing out") -> str:
        """Declare an incident and return its war room's channel id (for actions typed in the room)."""
        self.command(f"declare sev2 {title}")
        with self.bot.runtime.uow() as tx:
            (latest,) = tx.incidents.list_open(1)
            assert latest.channel_id is not None, "war room not created"
            return latest.channel_id


@contextmanager
def in_process_app(database_url: str, config: IncidentConfig | None = None) -> Iterator[InProcessApp]:
    """Start emulator, app and HTTP server with the recorder attached; stop them all afterwards."""
    cfg = config or bench_config()
    emu, general, announce = start_emulator(cfg)
    recorder = Recorder()
    try:
        settings = settings_for(emu, database_url)
        client = make_web_client(emu.bot_token, emu.api_url)
        recorder.attach_client(client)
        bot = create_app(settings, cfg, client=client, lease=timedelta(seconds=30))
        recorder.attach_engine(bot.engine)
        try:
            with LocalServer(bot.wsgi) as server:
                yield InProcessApp(emu, bot, server, recorder, general, announce)
        finally:
            bot.close()
    finally:
        emu.stop()
