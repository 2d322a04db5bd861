"""Serve the bot on loopback in a background thread: the demo and the scenario tests run it this way."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from waitress.server import create_server

from bot.http import SLACK_PATH


class LocalServer:
    """The production WSGI server (waitress) bound to a free loopback port."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0, threads: int = 16) -> None:
        self._server = create_server(app, host=host, port=port, threads=threads, ident="incidentbot")
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
            server.asyncore.loop(timeout=0.05, map=server._map, use_poll=True, count=1)
        server.task_dispatcher.shutdown()
        server.asyncore.close_all(server._map)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
