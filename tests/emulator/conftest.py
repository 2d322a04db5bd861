"""Fixtures: a started emulator, a real slack_sdk client against it, and a recording stand-in for the bot."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import SlackEmulator
from bot.slack.manifest import build_manifest

TOKEN = "xoxb-emulator"
SECRET = "emulator-secret"


@pytest.fixture
def emu() -> Iterator[SlackEmulator]:
    """A started emulator, stopped after the test."""
    with SlackEmulator(bot_token=TOKEN, signing_secret=SECRET, bot_user_id="UBOT", team_id="T0EMU") as e:
        yield e


@pytest.fixture
def client(emu: SlackEmulator) -> WebClient:
    """The real Slack SDK client pointed at the emulator."""
    return WebClient(token=TOKEN, base_url=emu.api_url)


def error_of(exc: pytest.ExceptionInfo[SlackApiError]) -> str:
    """The Slack error code carried by a SlackApiError."""
    return str(exc.value.response["error"])


def manifest(
    scopes: list[str] | None = None, *, add: tuple[str, ...] = (), **app_home: bool
) -> dict[str, Any]:
    """The bot's manifest with other bot scopes (or extra ones) and App Home features."""
    built = copy.deepcopy(build_manifest())
    bot_scopes = built["oauth_config"]["scopes"]["bot"]
    built["oauth_config"]["scopes"]["bot"] = [*(bot_scopes if scopes is None else scopes), *add]
    built["features"]["app_home"].update(app_home)
    return built


MakeEmu = Callable[..., tuple[SlackEmulator, WebClient]]


@pytest.fixture
def make_emu() -> Iterator[MakeEmu]:
    """Start emulators installed with another manifest: `emu, client = make_emu(manifest(...))`."""
    started: list[SlackEmulator] = []

    def make(installed: dict[str, Any] | None = None, **kwargs: Any) -> tuple[SlackEmulator, WebClient]:
        emu = SlackEmulator(bot_token=TOKEN, signing_secret=SECRET, manifest=installed, **kwargs).start()
        started.append(emu)
        return emu, WebClient(token=TOKEN, base_url=emu.api_url)

    yield make
    for emu in started:
        emu.stop()


@dataclass
class Recorded:
    """One request the fake bot received."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    """A tiny HTTP server standing in for the bot: records requests and answers with a canned reply."""

    url: str
    requests: list[Recorded] = field(default_factory=list)
    reply_status: int = 200
    reply_body: bytes = b""
    reply_type: str = "text/plain"


@pytest.fixture
def bot() -> Iterator[Recorder]:
    """A local HTTP endpoint recording what the emulator delivers."""
    holder: dict[str, Any] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def do_POST(self) -> None:  # noqa: N802
            rec: Recorder = holder["rec"]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            rec.requests.append(Recorded(self.path, dict(self.headers.items()), body))
            self.send_response(rec.reply_status)
            self.send_header("Content-Type", rec.reply_type)
            self.send_header("Content-Length", str(len(rec.reply_body)))
            self.end_headers()
            self.wfile.write(rec.reply_body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["rec"] = Recorder(url=f"http://127.0.0.1:{server.server_address[1]}/slack/events")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield holder["rec"]
    server.shutdown()
    server.server_close()
