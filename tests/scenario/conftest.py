"""Scenario harness: the real app served over HTTP, driven by signed requests, talking to the emulator."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from bot.app import IncidentBot, create_app
from bot.emulator import SlackEmulator
from bot.ops.config import IncidentConfig
from bot.ops.local import LocalServer
from bot.ops.migrate import upgrade
from bot.ops.settings import Settings
from commands.pager import Pager
from store.models import Incident


class FakeClock:
    """A clock the test moves by hand, starting at the real time (the emulator's ts are real)."""

    def __init__(self) -> None:
        self._now = datetime.now(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> None:
        with self._lock:
            self._now += timedelta(**delta)


@dataclass
class Harness:
    emu: SlackEmulator
    bot: IncidentBot
    server: LocalServer
    general: str
    announce: str

    @property
    def url(self) -> str:
        return self.server.events_url

    def command(self, text: str, *, user: str = "U1", channel: str | None = None, settle: bool = True) -> Any:
        result = self.emu.send_command(self.url, text, user_id=user, channel_id=channel or self.general)
        if settle:
            self.settle()
        return result

    def settle(self) -> None:
        self.bot.runtime.drain()

    def replies(self) -> list[str]:
        return [str(r.body.get("text", "")) for r in self.emu.responses]

    def incident(self, number: int) -> Incident:
        with self.bot.runtime.uow() as tx:
            incident = tx.incidents.get(number)
            assert incident is not None
            tx.session.expunge(incident)
            return incident

    def room(self, number: int) -> Any:
        channel_id = self.incident(number).channel_id
        assert channel_id is not None, "war room not created"
        return self.emu.channels[channel_id]

    def timeline(self, number: int) -> list[Any]:
        with self.bot.runtime.uow() as tx:
            events = list(tx.timeline.list_for(number))
            for event in events:
                tx.session.expunge(event)
            return events

    def dms_to(self, user: str) -> list[Any]:
        return [c for c in self.emu.calls_to("chat.postMessage") if c.args.get("channel") == user]

    def timeline_kinds(self, number: int) -> list[str]:
        with self.bot.runtime.uow() as tx:
            return [e.kind for e in tx.timeline.list_for(number)]


def start_harness(
    database_url: str,
    config: IncidentConfig | None = None,
    clock: FakeClock | None = None,
    pager: Pager | None = None,
    webhook_token: str | None = None,
    **settings_of_test: Any,
) -> Iterator[Harness]:
    upgrade(database_url)
    with SlackEmulator() as emu:
        for user, name in {"U1": "alice", "U2": "bob", "U3": "carol", "U4": "dave"}.items():
            emu.add_user(user, name=name)
        emu.add_usergroup("S1", handle="db-oncall", users=["U3", "U4"])
        existing = emu.channel_by_name("general")
        general = existing.id if existing else emu.add_channel("general", members={"U1", "U2", "U3"})
        cfg = config or IncidentConfig()
        announce = emu.add_channel(cfg.announce_channel, members={"U1", "U2", "U3"})
        settings = Settings(
            slack_bot_token=SecretStr(emu.bot_token),
            slack_signing_secret=SecretStr(emu.signing_secret),
            slack_api_url=emu.api_url,
            database_url=database_url,
            incidentbot_webhook_token=SecretStr(webhook_token) if webhook_token else None,
            **settings_of_test,
        )
        bot = create_app(settings, cfg, lease=timedelta(seconds=30), clock=clock, pager=pager)
        try:
            with LocalServer(bot.wsgi) as server:
                yield Harness(emu=emu, bot=bot, server=server, general=general, announce=announce)
        finally:
            bot.close()


@pytest.fixture
def configured_harness(sqlite_url: str) -> Iterator[Any]:
    """Build a harness with a specific config: `h = configured_harness(IncidentConfig(...))`."""
    started: list[Iterator[Harness]] = []

    def make(config: IncidentConfig, clock: FakeClock | None = None, pager: Pager | None = None) -> Harness:
        gen = start_harness(sqlite_url, config, clock, pager)
        started.append(gen)
        return next(gen)

    yield make
    for gen in started:
        with contextlib.suppress(StopIteration):
            next(gen)


@pytest.fixture
def harness(sqlite_url: str) -> Iterator[Harness]:
    """The app on SQLite."""
    yield from start_harness(sqlite_url)


@pytest.fixture
def any_db_harness(db_url: str) -> Iterator[Harness]:
    """The app on each backend (SQLite and PostgreSQL)."""
    yield from start_harness(db_url)
