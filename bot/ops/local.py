"""Serve the bot under waitress in a background thread: `serve`, the demo and the scenario tests run it so."""

from __future__ import annotations

import resource
import threading
from dataclasses import asdict, dataclass, field
from types import TracebackType
from typing import Any

from waitress.server import create_server

from bot.ops.settings import HTTP_THREADS
from bot.slack.http import SLACK_PATH
from bot.slack.request_gate import MAX_BODY_BYTES

KIB = 1024
MAX_CONNECTIONS = 1000
FDS_KEPT_BACK = 64  # for the database pool, the log and the listening socket


def connection_limit() -> int:
    """As many connections as file descriptors allow: each takes a socket and, for a large body, a temp file.

    Above the limit waitress stops accepting; past the descriptor limit it would spin on failing accepts.
    """
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(1, min(MAX_CONNECTIONS, (soft - FDS_KEPT_BACK) // 2))


@dataclass(frozen=True)
class HttpLimits:
    """Waitress settings that bound what a client holds before its request is authenticated.

    Waitress's defaults trust the network: 100 connections (100 half-open sockets starved /healthz),
    120 s before an idle connection is closed, 256 KiB of headers and 1 GiB of body per request.
    """

    connection_limit: int = field(default_factory=connection_limit)
    channel_timeout: int = 10  # seconds without a byte before a connection is closed
    cleanup_interval: int = 2  # how often idle connections are looked for
    max_request_header_size: int = 16 * KIB  # Slack sends about 1 KiB; times every open connection
    max_request_body_size: int = MAX_BODY_BYTES + 1  # waitress refuses a body of this size or more
    inbuf_overflow: int = 64 * KIB  # a body beyond this waits in a temp file, not in memory


class LocalServer:
    """The production WSGI server (waitress) bound to a free loopback port."""

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = HTTP_THREADS,
        limits: HttpLimits | None = None,
    ) -> None:
        self._server = create_server(
            app, host=host, port=port, threads=threads, ident="incidentbot", **asdict(limits or HttpLimits())
        )
        self.base_url = f"http://{host}:{self._server.effective_port}"  # type: ignore[union-attr]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="incidentbot-http", daemon=True)

    @property
    def events_url(self) -> str:
        return self.base_url + SLACK_PATH

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def _serve(self) -> None:
        """Run waitress's loop in short slices so stop() can end it; the loop's own thread closes sockets."""
        server: Any = self._server
        while not self._stopping.is_set():
            # poll, not select: select cannot watch descriptors numbered above 1023.
            server.asyncore.loop(timeout=0.05, map=server._map, use_poll=True, count=1)
        server.task_dispatcher.shutdown()
        server.asyncore.close_all(server._map)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self, _exc_type: type[BaseException] | None, _exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()
