"""A loopback JSON API server for the tracker emulators: auth, recorded calls, failure and latency knobs."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from .loopback import LoopbackServer, Serving


@dataclass(frozen=True)
class ApiCall:
    """A request the emulator received, without its credentials."""

    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class ApiFault:
    """An answer given on purpose to the next `times` requests (None: until cleared)."""

    status: int
    times: int | None = 1
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    # The request is carried out, then its answer is lost (a gateway timing out after the write).
    after: bool = False
    method: str | None = None  # only requests with this method (e.g. "PUT") meet it; None: any


@dataclass(frozen=True)
class ApiAnswer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


Route = Callable[[str, str, dict[str, str], Any, dict[str, str]], ApiAnswer]


class TrackerServer:
    """Serve `route` on 127.0.0.1 in a thread; tests turn the knobs and read `calls`."""

    def __init__(self, route: Route) -> None:
        self.lock = threading.RLock()
        self.calls: list[ApiCall] = []
        self._faults: list[ApiFault] = []
        self.latency = 0.0
        self._route = route
        self._http = _Server(("127.0.0.1", 0), self)
        self._serving: Serving | None = None

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._serving = Serving(self._http, "tracker-emulator")

    def stop(self) -> None:
        if self._serving is not None:
            self._serving.stop()
        else:  # never started: only the port to release
            self._http.server_close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def fail(
        self,
        status: int,
        *,
        times: int | None = 1,
        headers: dict[str, str] | None = None,
        after: bool = False,
        method: str | None = None,
    ) -> None:
        """Answer the next `times` requests (of `method`, when given) with `status` (and headers such
        as Retry-After); with `after`, carry each out first, as a gateway timing out after the write."""
        with self.lock:
            body = {"message": "injected failure"}
            self._faults.append(ApiFault(status, times, dict(headers or {}), body, after, method))

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()
            self.latency = 0.0

    def _take_fault(self, method: str) -> ApiFault | None:
        with self.lock:
            if not self._faults or self._faults[0].method not in (None, method):
                return None
            fault = self._faults[0]
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.pop(0)
            return fault

    def handle(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes) -> ApiAnswer:
        parts = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return ApiAnswer(400, {"message": "Problems parsing JSON"})
        with self.lock:
            self.calls.append(ApiCall(method, parts.path, query, body))
        if self.latency:
            time.sleep(self.latency)  # never under the lock
        fault = self._take_fault(method)
        if fault is not None and not fault.after:
            return ApiAnswer(fault.status, fault.body, fault.headers)
        with self.lock:
            answer = self._route(method, parts.path, query, body, headers)
        return answer if fault is None else ApiAnswer(fault.status, fault.body, fault.headers)


class _Server(LoopbackServer):
    def __init__(self, addr: tuple[str, int], owner: TrackerServer) -> None:
        super().__init__(addr, _Handler)
        self.owner = owner


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        answer = self.server.owner.handle(self.command, self.path, headers, raw)
        data = b"" if answer.body is None else json.dumps(answer.body).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815 (http.server's naming)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's signature)
        """Quiet: tests read `calls`, not stderr."""
