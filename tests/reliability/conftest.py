"""Reliability harness: the real app over signed HTTP against the emulator, with lease and timeout knobs."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from bot.app import IncidentBot, create_app
from bot.emulator import DeliveryResult, SlackEmulator
from bot.ops.config import IncidentConfig
from bot.ops.local import LocalServer
from bot.ops.migrate import upgrade
from bot.ops.settings import Settings
from bot.slack.client import make_web_client
from store.models import Incident

USERS = {"U1": "alice", "U2": "bob", "U3": "carol", "U4": "dave", "U5": "eve"}


@dataclass
class Bot:
    """One replica of the bot: the app and the loopback server in front of it."""

    bot: IncidentBot
    server: LocalServer

    @property
    def url(self) -> str:
        return self.server.events_url


@dataclass
class Rig:
    """A workspace, one or more replicas on one database, and helpers that read what users would see."""

    emu: SlackEmulator
    replicas: list[Bot]
    general: str
    announce: str

    @property
    def bot(self) -> IncidentBot:
        return self.replicas[0].bot

    @property
    def url(self) -> str:
        return self.replicas[0].url

    @property
    def base_url(self) -> str:
        return self.replicas[0].server.base_url

    def command(
        self, text: str, *, user: str = "U1", channel: str | None = None, settle: bool = True
    ) -> DeliveryResult:
        result = self.emu.send_command(self.url, text, user_id=user, channel_id=channel or self.general)
        if settle:
            self.settle()
        return result

    def settle(self) -> None:
        for replica in self.replicas:
            replica.bot.runtime.drain()

    def replies(self) -> list[str]:
        return [str(r.body.get("text", "")) for r in self.emu.responses]

    def incident(self, number: int) -> Incident:
        with self.bot.runtime.uow() as tx:
            incident = tx.incidents.get(number)
            assert incident is not None, f"INC-{number} not recorded"
            tx.session.expunge(incident)
            return incident

    def incidents(self) -> list[Incident]:
        with self.bot.runtime.uow() as tx:
            found = list(tx.incidents.list_since())
            for incident in found:
                tx.session.expunge(incident)
            return found

    def room(self, number: int) -> Any:
        channel_id = self.incident(number).channel_id
        assert channel_id is not None, "war room not created"
        return self.emu.channels[channel_id]

    def timeline_kinds(self, number: int) -> list[str]:
        with self.bot.runtime.uow() as tx:
            return [e.kind for e in tx.timeline.list_for(number)]

    def pending_jobs(self) -> int:
        with self.bot.runtime.uow() as tx:
            return sum(len(tx.jobs.pending_for(i.id)) for i in tx.incidents.list_since())

    def tick_until(self, done: Callable[[], bool], seconds: float = 15.0) -> None:
        """Run the periodic tick (as the scheduler would) until `done`, failing after `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.bot.runtime.tick()
            if done():
                return
            time.sleep(0.1)
        raise AssertionError("work did not complete in time")


def bot_output(emu: SlackEmulator) -> list[tuple[str, str]]:
    """Every mrkdwn text the bot showed anyone: posts, DMs, edits, topics, ephemerals, response_url replies.

    Modal inputs are plain_text, which Slack never turns into mentions, so views are left out.
    """
    shown: list[tuple[str, str]] = []
    for call in emu.calls:
        if call.method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            blocks = json.dumps(call.args.get("blocks") or [], ensure_ascii=False)
            shown.append((call.method, f"{call.args.get('text', '')}\n{blocks}"))
        elif call.method == "conversations.setTopic":
            shown.append((call.method, str(call.args.get("topic", ""))))
    for response in emu.responses:
        body = response.body
        shown.append(("response_url", f"{body.get('text', '')}\n{json.dumps(body.get('blocks') or [])}"))
    return shown


def start_replica(
    emu: SlackEmulator,
    database_url: str,
    config: IncidentConfig,
    *,
    lease: timedelta = timedelta(seconds=30),
    client_timeout: int = 10,
) -> Bot:
    settings = Settings(
        slack_bot_token=SecretStr(emu.bot_token),
        slack_signing_secret=SecretStr(emu.signing_secret),
        slack_api_url=emu.api_url,
        database_url=database_url,
    )
    client = make_web_client(emu.bot_token, emu.api_url, timeout=client_timeout)
    app = create_app(settings, config, client=client, lease=lease)
    return Bot(bot=app, server=LocalServer(app.wsgi).start())


def open_rig(
    database_url: str,
    config: IncidentConfig | None = None,
    *,
    replicas: int = 1,
    lease: timedelta = timedelta(seconds=30),
    client_timeout: int = 10,
    announce_exists: bool = True,
    manifest: dict[str, Any] | None = None,
    realistic_rate_limits: bool = False,
) -> Iterator[Rig]:
    upgrade(database_url)
    cfg = config or IncidentConfig()
    with SlackEmulator(manifest=manifest, realistic_rate_limits=realistic_rate_limits) as emu:
        for user, name in USERS.items():
            emu.add_user(user, name=name)
        emu.add_usergroup("S1", handle="db-oncall", users=["U3", "U4"])
        emu.add_usergroup("S2", handle="everyone-else", users=["U5"])
        existing = emu.channel_by_name("general")
        general = existing.id if existing else emu.add_channel("general", members={"U1", "U2", "U3", "U5"})
        announce = (
            emu.add_channel(cfg.announce_channel, members={"U1", "U2", "U3", "U5"}) if announce_exists else ""
        )
        started: list[Bot] = []
        try:
            for _ in range(replicas):
                started.append(
                    start_replica(emu, database_url, cfg, lease=lease, client_timeout=client_timeout)
                )
            yield Rig(emu=emu, replicas=started, general=general, announce=announce)
        finally:
            for replica in started:
                replica.server.stop()
                replica.bot.close()


@pytest.fixture
def rig(sqlite_url: str) -> Iterator[Rig]:
    """The app on SQLite."""
    yield from open_rig(sqlite_url)


@pytest.fixture
def any_db_rig(db_url: str) -> Iterator[Rig]:
    """The app on each backend (SQLite and PostgreSQL)."""
    yield from open_rig(db_url)


@pytest.fixture
def make_rig(sqlite_url: str) -> Iterator[Callable[..., Rig]]:
    """Build a rig with options: `make_rig(config=..., client_timeout=1)`; closed at teardown."""
    opened: list[Iterator[Rig]] = []

    def make(**options: Any) -> Rig:
        gen = open_rig(options.pop("database_url", sqlite_url), **options)
        opened.append(gen)
        return next(gen)

    yield make
    for gen in reversed(opened):
        for _ in gen:
            pass
