"""Socket Mode: slack_sdk's builtin client and a Bolt app connect to the emulator, receive envelopes, ack."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from slack_bolt import Ack, App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.emulator import SlackEmulator
from bot.emulator.socket_mode import OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, accept_key, encode_frame

from .conftest import TOKEN

APP_TOKEN = "xapp-emulator"


def shut(emu: SlackEmulator, client: SocketModeClient) -> None:
    """Close from the emulator's side first: the client's reader then ends at once, not at its 3 s timeout."""
    client.auto_reconnect_enabled = False
    emu.socket_mode.close_all()
    client.close()


@pytest.fixture
def received() -> list[SocketModeRequest]:
    return []


@pytest.fixture
def sm_client(emu: SlackEmulator, received: list[SocketModeRequest]) -> Iterator[SocketModeClient]:
    """slack_sdk's builtin Socket Mode client, acking every envelope with {"seen": <type>}."""
    client = SocketModeClient(
        app_token=APP_TOKEN, web_client=WebClient(base_url=emu.api_url), auto_reconnect_enabled=False
    )

    def listener(c: Any, req: SocketModeRequest) -> None:
        received.append(req)
        c.send_socket_mode_response(
            SocketModeResponse(envelope_id=req.envelope_id, payload={"seen": req.type})
        )

    client.socket_mode_request_listeners.append(listener)
    client.connect()
    yield client
    shut(emu, client)


# -- apps.connections.open -----------------------------------------------------------------------------
def test_connections_open_issues_a_ws_url_on_the_emulator(emu: SlackEmulator) -> None:
    resp = WebClient(base_url=emu.api_url).apps_connections_open(app_token=APP_TOKEN)
    url = urlsplit(resp["url"])
    assert (url.scheme, url.hostname, url.port) == ("ws", "127.0.0.1", emu.port)
    assert url.path.startswith("/socket-mode/")
    assert emu.calls_to("apps.connections.open")[-1].ok


@pytest.mark.parametrize(
    ("token", "error"),
    [("xapp-wrong", "invalid_auth"), (TOKEN, "not_allowed_token_type")],
)
def test_connections_open_needs_the_app_token(emu: SlackEmulator, token: str, error: str) -> None:
    with pytest.raises(SlackApiError) as exc:
        WebClient(base_url=emu.api_url).apps_connections_open(app_token=token)
    assert exc.value.response["error"] == error


def test_the_app_token_is_not_a_bot_token(emu: SlackEmulator) -> None:
    with pytest.raises(SlackApiError) as exc:
        WebClient(token=APP_TOKEN, base_url=emu.api_url).conversations_info(channel=emu.general_channel_id)
    assert exc.value.response["error"] == "not_allowed_token_type"


def test_app_token_is_configurable(emu: SlackEmulator) -> None:
    emu.app_token = "xapp-other"
    assert WebClient(base_url=emu.api_url).apps_connections_open(app_token="xapp-other")["ok"]


# -- the builtin client ----------------------------------------------------------------------------------
@pytest.mark.usefixtures("sm_client")
def test_builtin_client_receives_a_command_and_acks_it(
    emu: SlackEmulator, received: list[SocketModeRequest]
) -> None:
    assert emu.socket_connected(5)
    ack = emu.socket_send_command("declare sev2 db slow", user_id="U1")
    assert ack == {"seen": "slash_commands"}
    req = received[-1]
    assert req.type == "slash_commands" and req.accepts_response_payload
    assert req.payload["command"] == "/incident"
    assert req.payload["text"] == "declare sev2 db slow"
    assert req.payload["user_id"] == "U1"
    assert req.payload["channel_id"] == emu.general_channel_id
    assert req.payload["response_url"].startswith(emu.base_url)
    envelope = emu.socket_mode.envelopes[-1]
    assert envelope.envelope_id == req.envelope_id
    assert [a.envelope_id for a in emu.socket_mode.acks] == [req.envelope_id]


@pytest.mark.usefixtures("sm_client")
def test_builtin_client_receives_events_and_interactions(
    emu: SlackEmulator, received: list[SocketModeRequest]
) -> None:
    assert emu.socket_connected(5)
    event = {"type": "reaction_added", "user": "U1", "reaction": "pushpin"}
    assert emu.socket_send_event(event, event_id="Ev1") == {"seen": "events_api"}
    req = received[-1]
    assert req.type == "events_api" and not req.accepts_response_payload
    assert req.payload["type"] == "event_callback" and req.payload["event_id"] == "Ev1"
    assert req.payload["event"]["reaction"] == "pushpin"
    assert req.retry_attempt == 0

    assert emu.socket_send_interaction({"type": "block_actions", "actions": []}) == {"seen": "interactive"}
    assert received[-1].type == "interactive" and received[-1].payload["type"] == "block_actions"


def test_send_without_a_connection_or_without_an_ack(emu: SlackEmulator) -> None:
    with pytest.raises(RuntimeError, match="no app is connected"):
        emu.socket_send_command("help")
    client = SocketModeClient(
        app_token=APP_TOKEN, web_client=WebClient(base_url=emu.api_url), auto_reconnect_enabled=False
    )
    client.connect()  # no listeners: nothing acks
    try:
        assert emu.socket_connected(5)
        with pytest.raises(TimeoutError, match="no ack for slash_commands"):
            emu.socket_send_command("help", timeout=0.5)
    finally:
        shut(emu, client)


def test_stop_closes_connections_instead_of_hanging() -> None:
    emu = SlackEmulator().start()
    closed: list[int] = []
    client = SocketModeClient(
        app_token=APP_TOKEN,
        web_client=WebClient(base_url=emu.api_url),
        auto_reconnect_enabled=False,
        on_close_listeners=[lambda code, _reason: closed.append(code)],
    )
    client.connect()
    try:
        assert emu.socket_connected(5)
        started = time.monotonic()
        emu.stop()
        assert time.monotonic() - started < 3
        deadline = time.monotonic() + 5
        while not closed and time.monotonic() < deadline:
            time.sleep(0.02)
        assert closed == [1001]
    finally:
        client.close()


# -- a Bolt app ------------------------------------------------------------------------------------------
def test_bolt_socket_mode_handler_round_trip(emu: SlackEmulator) -> None:
    app = App(
        token=TOKEN, client=WebClient(token=TOKEN, base_url=emu.api_url), token_verification_enabled=False
    )
    seen: list[str] = []

    @app.command("/incident")
    def command(ack: Ack, body: dict[str, Any]) -> None:
        ack(text=f"on it: {body['text']}")

    @app.event("reaction_added")
    def reaction(event: dict[str, Any]) -> None:
        seen.append(event["reaction"])

    @app.view("declare")
    def submit(ack: Ack) -> None:
        ack(response_action="errors", errors={"title": "needed"})

    handler = SocketModeHandler(app, APP_TOKEN)
    handler.connect()
    try:
        assert emu.socket_connected(5)
        assert emu.socket_send_command("declare x") == {"text": "on it: declare x"}
        emu.socket_send_event({"type": "reaction_added", "user": "U1", "reaction": "eyes", "item": {}})
        answer = emu.socket_send_interaction(
            {
                "type": "view_submission",
                "user": {"id": "U1"},
                "view": {"type": "modal", "callback_id": "declare", "state": {}},
            }
        )
        assert answer == {"response_action": "errors", "errors": {"title": "needed"}}
        assert emu.socket_mode.envelopes[-1].accepts_response_payload
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.02)
        assert seen == ["eyes"]
    finally:
        shut(emu, handler.client)


# -- the WebSocket protocol, byte by byte ----------------------------------------------------------------
class RawClient:
    """A bare RFC 6455 client: masks its frames, reads the server's unmasked ones."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname or "", parts.port or 80), timeout=5)
        self.key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {self.key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        self.status_line, *lines = head.decode().split("\r\n")
        self.headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}

    def send(self, opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True) -> None:
        self.sock.sendall(encode_frame(opcode, payload, mask=os.urandom(4) if masked else None, fin=fin))

    def _take(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise EOFError
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def recv(self) -> tuple[int, bytes]:
        b1, b2 = self._take(2)
        assert not b2 & 0x80, "server frames are never masked"
        length = b2 & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._take(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._take(8))
        return b1 & 0x0F, self._take(length)


def ws_url(emu: SlackEmulator) -> str:
    return str(WebClient(base_url=emu.api_url).apps_connections_open(app_token=APP_TOKEN)["url"])


def test_handshake_hello_ping_and_fragmented_ack(emu: SlackEmulator) -> None:
    raw = RawClient(ws_url(emu))
    assert raw.status_line.startswith("HTTP/1.1 101")
    assert raw.headers["sec-websocket-accept"] == accept_key(raw.key)
    opcode, data = raw.recv()
    hello = json.loads(data)
    assert opcode == OP_TEXT and hello["type"] == "hello" and hello["num_connections"] == 1

    raw.send(OP_PING, b"are you there")
    assert raw.recv() == (OP_PONG, b"are you there")

    outcome: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: outcome.update(ack=emu.socket_send_command("x " * 200)))
    thread.start()
    opcode, data = raw.recv()
    envelope = json.loads(data)
    assert opcode == OP_TEXT and envelope["type"] == "slash_commands" and len(data) > 125
    ack = json.dumps({"envelope_id": envelope["envelope_id"], "payload": {"text": "ok"}}).encode()
    raw.send(OP_TEXT, ack[:10], fin=False)
    raw.send(OP_PING, b"in between")  # control frames may interleave with fragments
    raw.send(0x0, ack[10:])
    assert raw.recv() == (OP_PONG, b"in between")
    thread.join(5)
    assert outcome["ack"] == {"text": "ok"}

    raw.send(OP_CLOSE, struct.pack("!H", 1000))
    opcode, data = raw.recv()
    assert opcode == OP_CLOSE and struct.unpack("!H", data[:2])[0] == 1000


def test_unmasked_client_frame_is_a_protocol_error(emu: SlackEmulator) -> None:
    raw = RawClient(ws_url(emu))
    raw.recv()  # hello
    raw.send(OP_TEXT, b"{}", masked=False)
    opcode, data = raw.recv()
    assert opcode == OP_CLOSE and struct.unpack("!H", data[:2])[0] == 1002


def test_tickets_are_single_use_and_required(emu: SlackEmulator) -> None:
    url = ws_url(emu)
    first = RawClient(url)
    assert first.status_line.startswith("HTTP/1.1 101")
    assert " 404 " in RawClient(url).status_line + " "
    assert " 404 " in RawClient(f"ws://127.0.0.1:{emu.port}/socket-mode/nope").status_line + " "
