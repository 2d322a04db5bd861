"""Socket Mode for the emulator: apps.connections.open tickets and a minimal RFC 6455 server side.

Upgrade requests to `/socket-mode/<ticket>` arrive on the emulator's own HTTP port; the request's handler
thread then owns the WebSocket until it closes. The emulator sends `hello`, then envelopes
(`slash_commands`, `events_api`, `interactive`); the app acknowledges each with
`{"envelope_id": ..., "payload": {...}}`, which is recorded and handed to whoever waits for it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import secrets
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import urlsplit

from .state import APP_ID, SlackError

PATH_PREFIX = "/socket-mode/"
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MAX_MESSAGE = 16 * 1024 * 1024
CLOSE_NORMAL, CLOSE_GOING_AWAY, CLOSE_PROTOCOL, CLOSE_TOO_BIG = 1000, 1001, 1002, 1009


class _Reader(Protocol):
    """What frames are read from (the request handler's buffered rfile)."""

    def read(self, n: int, /) -> bytes: ...


class ProtocolError(Exception):
    """A peer broke RFC 6455; the connection is closed with `code`."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


@dataclass(frozen=True)
class SocketEnvelope:
    """One envelope the emulator sent over Socket Mode."""

    envelope_id: str
    type: str
    payload: dict[str, Any]
    accepts_response_payload: bool
    connection_id: str
    at: float


@dataclass(frozen=True)
class SocketAck:
    """One acknowledgement the app sent back; payload is None when it carried none."""

    envelope_id: str
    payload: dict[str, Any] | None
    at: float


def accept_key(key: str) -> str:
    """Sec-WebSocket-Accept for a client's Sec-WebSocket-Key."""
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


def _xor(data: bytes, key: bytes) -> bytes:
    """Apply (or remove) a 4-byte masking key."""
    n = len(data)
    if not n:
        return data
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


def encode_frame(opcode: int, payload: bytes, *, mask: bytes | None = None, fin: bool = True) -> bytes:
    """One frame; servers send unmasked frames, clients (and tests acting as one) pass a mask."""
    head = bytes([(0x80 if fin else 0) | opcode])
    bit = 0x80 if mask is not None else 0
    n = len(payload)
    if n <= 125:
        head += bytes([bit | n])
    elif n <= 0xFFFF:
        head += struct.pack("!BH", bit | 126, n)
    else:
        head += struct.pack("!BQ", bit | 127, n)
    if mask is None:
        return head + payload
    return head + mask + _xor(payload, mask)


def _read_exact(rfile: _Reader, n: int) -> bytes:
    data = rfile.read(n) if n else b""
    if len(data) != n:
        raise EOFError("connection closed mid-frame")
    return data


def read_frame(rfile: _Reader) -> tuple[bool, int, bytes]:
    """Read one client frame (fin, opcode, unmasked payload); client frames must be masked."""
    b1, b2 = _read_exact(rfile, 2)
    if b1 & 0x70:
        raise ProtocolError(CLOSE_PROTOCOL, "reserved bits set")
    fin, opcode, length = bool(b1 & 0x80), b1 & 0x0F, b2 & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", _read_exact(rfile, 2))
    elif length == 127:
        (length,) = struct.unpack("!Q", _read_exact(rfile, 8))
    if not b2 & 0x80:
        raise ProtocolError(CLOSE_PROTOCOL, "client frames must be masked")
    if opcode >= OP_CLOSE and (length > 125 or not fin):
        raise ProtocolError(CLOSE_PROTOCOL, "control frames must be short and unfragmented")
    if length > MAX_MESSAGE:
        raise ProtocolError(CLOSE_TOO_BIG, "message too big")
    key = _read_exact(rfile, 4)
    return fin, opcode, _xor(_read_exact(rfile, length), key)


class _Connection:
    """One open WebSocket: frame writes are serialised because the reader answers pings concurrently."""

    def __init__(self, connection_id: str, sock: socket.socket) -> None:
        self.id, self.sock = connection_id, sock
        self._send_lock = threading.Lock()
        self.closing = False

    def send(self, opcode: int, payload: bytes) -> None:
        with self._send_lock:
            self.sock.sendall(encode_frame(opcode, payload))

    def send_json(self, message: dict[str, Any]) -> None:
        self.send(OP_TEXT, json.dumps(message).encode())

    def close(self, code: int = CLOSE_NORMAL, reason: str = "") -> None:
        """Send a close frame (once) and stop both directions, which also ends the reader."""
        if not self.closing:
            self.closing = True
            with contextlib.suppress(OSError):
                self.send(OP_CLOSE, struct.pack("!H", code) + reason.encode()[:120])
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)


class SocketModeHub:
    """Tickets, live connections, envelopes sent and acks received, behind one condition variable."""

    def __init__(self, app_token: str) -> None:
        self.app_token = app_token
        self._cond = threading.Condition()
        self._tickets: set[str] = set()
        self._live: list[_Connection] = []
        self._envelopes: list[SocketEnvelope] = []
        self._acks: list[SocketAck] = []
        self.closed = False

    # -- Web API side ----------------------------------------------------------------------------------
    def open_url(self, token: str, base_url: str) -> str:
        """apps.connections.open: check the app-level token and issue a one-time WebSocket URL."""
        if token != self.app_token:
            raise SlackError("invalid_auth" if token.startswith("xapp-") else "not_allowed_token_type")
        ticket = secrets.token_hex(8)
        with self._cond:
            self._tickets.add(ticket)
        return "ws" + base_url.removeprefix("http").rstrip("/") + PATH_PREFIX + ticket

    # -- WebSocket side --------------------------------------------------------------------------------
    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        """Complete the upgrade handshake on this request and run the connection until it closes."""
        handler.close_connection = True
        headers = handler.headers
        ticket = urlsplit(handler.path).path[len(PATH_PREFIX) :]
        key = headers.get("Sec-WebSocket-Key", "").strip()
        upgrade = "websocket" in headers.get("Upgrade", "").lower()
        if not upgrade or "upgrade" not in headers.get("Connection", "").lower() or not key:
            _reject(handler, 400, "a WebSocket upgrade request is required")
            return
        if headers.get("Sec-WebSocket-Version", "").strip() != "13":
            _reject(handler, 426, "unsupported WebSocket version", {"Sec-WebSocket-Version": "13"})
            return
        with self._cond:
            valid = ticket in self._tickets and not self.closed
            self._tickets.discard(ticket)
        if not valid:
            _reject(handler, 404 if not self.closed else 503, "unknown or used Socket Mode ticket")
            return
        handler.wfile.write(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n"
            ).encode()
        )
        handler.wfile.flush()
        conn = _Connection(ticket, handler.connection)
        try:
            with self._cond:
                count = len(self._live) + 1
            conn.send_json(
                {
                    "type": "hello",
                    "num_connections": count,
                    "debug_info": {
                        "host": "emulator",
                        "build_number": 1,
                        "approximate_connection_time": 3600,
                    },
                    "connection_info": {"app_id": APP_ID},
                }
            )
            with self._cond:  # connected once hello is sent, so no envelope can overtake it
                self._live.append(conn)
                self._cond.notify_all()
                stopping = self.closed
            if stopping:  # close_all ran during the handshake and could not see this connection
                conn.close(CLOSE_GOING_AWAY, "emulator stopping")
            self._run(conn, handler.rfile)
        except OSError:
            pass
        finally:
            with self._cond:
                if conn in self._live:
                    self._live.remove(conn)
                self._cond.notify_all()

    def _run(self, conn: _Connection, rfile: _Reader) -> None:
        """Read frames until close or EOF: answer pings, record acks, close on protocol errors."""
        parts: list[bytes] = []
        kind: int | None = None
        while True:
            try:
                fin, opcode, data = read_frame(rfile)
            except EOFError:
                return
            except ProtocolError as exc:
                conn.close(exc.code, exc.reason)
                return
            if opcode == OP_PING:
                conn.send(OP_PONG, data)
            elif opcode == OP_CLOSE:
                conn.close(struct.unpack("!H", data[:2])[0] if len(data) >= 2 else CLOSE_NORMAL)
                return
            elif opcode in (OP_TEXT, OP_BINARY, OP_CONT):
                if (opcode == OP_CONT) == (kind is None):
                    conn.close(CLOSE_PROTOCOL, "unexpected continuation state")
                    return
                kind = opcode if kind is None else kind
                parts.append(data)
                if sum(map(len, parts)) > MAX_MESSAGE:
                    conn.close(CLOSE_TOO_BIG, "message too big")
                    return
                if fin:
                    message, is_text = b"".join(parts), kind == OP_TEXT
                    parts, kind = [], None
                    if is_text:
                        self._on_text(message)
            # pongs and unknown non-control opcodes need nothing

    def _on_text(self, raw: bytes) -> None:
        """Record an acknowledgement (anything else an app might send is ignored, as Slack does)."""
        try:
            message = json.loads(raw)
        except ValueError:
            return
        if not isinstance(message, dict) or not message.get("envelope_id"):
            return
        payload = message.get("payload")
        ack = SocketAck(
            str(message["envelope_id"]), payload if isinstance(payload, dict) else None, time.time()
        )
        with self._cond:
            self._acks.append(ack)
            self._cond.notify_all()

    # -- test side -------------------------------------------------------------------------------------
    def wait_connected(self, timeout: float) -> bool:
        """True once some app holds an open connection (within timeout seconds)."""
        with self._cond:
            return self._cond.wait_for(lambda: bool(self._live), timeout)

    def send(
        self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool, **extra: Any
    ) -> str:
        """Send an envelope on the newest connection and return its envelope_id."""
        with self._cond:
            if not self._live:
                raise RuntimeError("no app is connected over Socket Mode")
            conn = self._live[-1]
            envelope_id = str(uuid.uuid4())
            self._envelopes.append(
                SocketEnvelope(envelope_id, kind, payload, accepts_response_payload, conn.id, time.time())
            )
        conn.send_json(
            {
                "envelope_id": envelope_id,
                "payload": payload,
                "type": kind,
                "accepts_response_payload": accepts_response_payload,
                **extra,
            }
        )
        return envelope_id

    def wait_ack(self, envelope_id: str, timeout: float) -> SocketAck | None:
        """The app's acknowledgement of an envelope, or None if none came within timeout seconds."""

        def find() -> SocketAck | None:
            return next((a for a in self._acks if a.envelope_id == envelope_id), None)

        with self._cond:
            self._cond.wait_for(lambda: find() is not None, timeout)
            return find()

    def close_all(self) -> None:
        """Refuse new connections and close the open ones (the emulator is stopping)."""
        with self._cond:
            self.closed = True
            live = list(self._live)
        for conn in live:
            conn.close(CLOSE_GOING_AWAY, "emulator stopping")

    def reopen(self) -> None:
        """Accept connections again (the emulator is starting)."""
        with self._cond:
            self.closed = False

    @property
    def envelopes(self) -> list[SocketEnvelope]:
        """Snapshot of envelopes sent, in order."""
        with self._cond:
            return list(self._envelopes)

    @property
    def acks(self) -> list[SocketAck]:
        """Snapshot of acknowledgements received, in arrival order."""
        with self._cond:
            return list(self._acks)


def _reject(
    handler: BaseHTTPRequestHandler, status: int, text: str, headers: dict[str, str] | None = None
) -> None:
    """Answer a failed upgrade with a plain HTTP error."""
    raw = text.encode()
    handler.send_response(status)
    for name, value in {"Content-Type": "text/plain; charset=utf-8", **(headers or {})}.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(raw)))
    handler.end_headers()
    handler.wfile.write(raw)
