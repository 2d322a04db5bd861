"""The Web API client reuses connections, and keeps slack_sdk's error and retry behaviour."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.slack.keepalive import KeepAliveWebClient


class Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.connections = 0
        self.requests = 0
        self.plan: list[tuple[int, dict[str, str], dict[str, Any]]] = []
        self.close_after_next = False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Recorder

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests += 1
        status, headers, payload = self.server.plan.pop(0) if self.server.plan else (200, {}, {"ok": True})
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)
        if self.server.close_after_next:
            self.server.close_after_next = False
            self.close_connection = True


@pytest.fixture
def server() -> Iterator[Recorder]:
    srv = Recorder()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def client(srv: Recorder, **kw: Any) -> KeepAliveWebClient:
    return KeepAliveWebClient(token="xoxb-t", base_url=f"http://127.0.0.1:{srv.server_address[1]}/api/", **kw)


def test_calls_share_one_connection(server: Recorder) -> None:
    web = client(server)
    for _ in range(5):
        assert web.api_call("auth.test")["ok"] is True
    assert (server.requests, server.connections) == (5, 1)


def test_a_connection_closed_by_the_server_is_replaced(server: Recorder) -> None:
    web = client(server)
    server.close_after_next = True
    web.api_call("auth.test")
    web.api_call("auth.test")
    assert server.requests == 2 and server.connections == 2


def test_slack_errors_and_rate_limits_behave_like_webclient(server: Recorder) -> None:
    web = client(server, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    server.plan = [
        (429, {"Retry-After": "0"}, {"ok": False, "error": "ratelimited"}),
        (200, {}, {"ok": True}),
    ]
    assert web.api_call("chat.postMessage", params={"channel": "C1", "text": "x"})["ok"] is True
    assert server.requests == 2
    server.plan = [(200, {}, {"ok": False, "error": "channel_not_found"})]
    with pytest.raises(SlackApiError) as err:
        web.api_call("chat.postMessage", params={"channel": "C1", "text": "x"})
    assert err.value.response["error"] == "channel_not_found"
