"""What the PagerDuty and Opsgenie emulators share: a loopback JSON server, fault knobs, recorded calls,
and delivering webhooks to the bot the way the real services do."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from .knobs import Fault, Knobs
from .loopback import LoopbackServer, Serving

SERVER_ERROR = "internal_error"
RATE_LIMITED = "rate_limited"
# How long a delivered webhook waits for the bot (PagerDuty's generic webhooks give 5 s).
DELIVERY_TIMEOUT = 5.0
# Bodies past this are refused: neither service takes more (PagerDuty's documented limit is 512 KB).
MAX_BODY = 512 * 1024
DRAIN_LIMIT = 8 * MAX_BODY  # beyond this a refused body is left unread and the connection closed


@dataclass(frozen=True)
class ServiceCall:
    """One request the emulator answered: which operation, what was sent (parsed JSON) and the answer."""

    operation: str
    path: str
    body: Any
    status: int
    at: float
    headers: Mapping[str, str] = field(default_factory=dict)
    answer: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    """A request as a service handler sees it."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # lower-cased names
    raw: bytes


@dataclass
class Reply:
    """A JSON answer with its status and extra headers."""

    status: int
    payload: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class _Server(LoopbackServer):
    def __init__(self, addr: tuple[str, int], emulator: ServiceEmulator) -> None:
        super().__init__(addr, _Handler)
        self.emulator = emulator


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: request lines and headers carry keys."""

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        self._serve("POST")

    def _serve(self, method: str) -> None:
        emulator = self.server.emulator
        raw_length = self.headers.get("Content-Length") or "0"
        length = int(raw_length) if raw_length.isdigit() else MAX_BODY + 1  # unreadable: refused, unread
        if length > MAX_BODY:
            self.close_connection = True
            self._discard(length)
            self._send(emulator.too_large())
            return
        raw = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(
            method,
            parts.path,
            parse_qs(parts.query),
            {k.lower(): v for k, v in self.headers.items()},
            raw,
        )
        self._send(emulator.serve(request))

    def _discard(self, length: int) -> None:
        """Read a refused body first (up to a bound), so its sender sees the 413 rather than a broken pipe."""
        left = min(length, DRAIN_LIMIT)
        while left > 0:
            chunk = self.rfile.read(min(left, 64 * 1024))
            if not chunk:
                return
            left -= len(chunk)

    def _send(self, reply: Reply) -> None:
        raw = json.dumps(reply.payload).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)


class ServiceEmulator:
    """Lifecycle, knobs and recordings of a pager service emulator; subclasses say how it answers."""

    thread_name = "pager-emulator"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self.lock = threading.RLock()
        self._knobs = Knobs(self.lock)
        self._calls: list[ServiceCall] = []
        self._serving: Serving | None = None

    # -- what a service defines ------------------------------------------------------------------------
    def operation_of(self, method: str, path: str) -> str | None:
        """The operation a request names (knobs and recordings use it), or None for an unknown path."""
        raise NotImplementedError

    def handle(self, operation: str, request: Request) -> Reply:
        """Answer one request the way the service documents (under no lock; take self.lock)."""
        raise NotImplementedError

    def error_reply(self, status: int, error: str) -> Reply:
        """The service's error body for an injected fault."""
        raise NotImplementedError

    def too_large(self) -> Reply:
        """The answer to a body over the size limit."""
        return self.error_reply(413, "request body too large")

    # -- serving ---------------------------------------------------------------------------------------
    def serve(self, request: Request) -> Reply:
        """Route, apply knobs, answer and record one request."""
        at = time.monotonic()
        operation = self.operation_of(request.method, request.path)
        if operation is None:
            return self.error_reply(404, "not found")
        delay, fault = self._knobs.take(operation)
        if delay:
            time.sleep(delay)  # this request's own thread, no lock held
        if fault is not None:
            reply = self.error_reply(fault.status, fault.error)
            if fault.retry_after is not None:
                reply.headers["Retry-After"] = str(fault.retry_after)
        else:
            reply = self.handle(operation, request)
        try:
            body: Any = json.loads(request.raw) if request.raw else None
        except (ValueError, UnicodeDecodeError):
            body = None
        with self.lock:
            self._calls.append(
                ServiceCall(operation, request.path, body, reply.status, at, request.headers, reply.payload)
            )
        return reply

    def start(self) -> Self:
        """Bind (port 0 = any free port) and serve from a daemon thread."""
        if self._serving is None:
            self._serving = Serving(_Server((self.host, self.port), self), self.thread_name)
            self.port = self._serving.port
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._serving is not None:
            self._serving.stop()
            self._serving = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """Root URL of the running server, without a trailing slash (the bot's *_URL setting)."""
        if self._serving is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://{self.host}:{self.port}"

    # -- recordings ------------------------------------------------------------------------------------
    @property
    def calls(self) -> list[ServiceCall]:
        """Every answered request, in arrival order."""
        with self.lock:
            return list(self._calls)

    def calls_to(self, operation: str) -> list[ServiceCall]:
        """Answered requests for one operation, in arrival order."""
        return [c for c in self.calls if c.operation == operation]

    # -- knobs -----------------------------------------------------------------------------------------
    def set_latency(self, seconds: float, operation: str | None = None) -> None:
        """Delay answers (to one operation, or all when None) without blocking other requests."""
        self._knobs.set_latency(seconds, operation)

    def fail(self, operation: str = "*", status: int = 500, times: int | None = 1) -> None:
        """Answer the next `times` requests for `operation` ("*": any) with this HTTP error."""
        self._knobs.add(Fault(operation, times, status, SERVER_ERROR))

    def rate_limit(self, operation: str = "*", retry_after: int | None = 1, times: int | None = 1) -> None:
        """Answer the next `times` requests with HTTP 429 (and Retry-After unless None)."""
        self._knobs.add(Fault(operation, times, 429, RATE_LIMITED, retry_after))

    def clear_faults(self) -> None:
        """Remove all latency and fault settings."""
        self._knobs.clear()


def deliver(url: str, body: bytes, headers: Mapping[str, str], timeout: float = DELIVERY_TIMEOUT) -> int:
    """POST a webhook to the bot as the service would and return the HTTP status it answered."""
    request = urllib.request.Request(url, data=body, method="POST", headers=dict(headers))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - test URLs
            return int(response.status)
    except urllib.error.HTTPError as exc:
        with exc:
            return int(exc.code)
