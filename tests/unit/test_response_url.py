"""Replies through response_url on kept-alive connections: reused, replaced when stale, never sent twice."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.slack.response_url import PooledRespond, ResponseUrls


class _Hooks(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0
    posts: list[dict[str, object]]
    status = 200
    close_after_answer = False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as hooks.slack.com
    server: _Hooks

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.posts.append(
            {"path": self.path, "ctype": self.headers["Content-Type"], **json.loads(body)}
        )
        answer = b"ok"
        # Decided before answering: the test may change the setting the moment the answer arrives.
        hang_up = self.server.close_after_answer
        self.send_response(self.server.status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
        if hang_up:  # an idle connection the far end drops without saying so
            self.close_connection = True

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def hooks() -> Iterator[_Hooks]:
    server = _Hooks(("127.0.0.1", 0), _Handler)
    server.posts = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _url(server: _Hooks, path: str = "/commands/T1/1/abc") -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def test_replies_to_one_host_share_one_kept_connection(hooks: _Hooks) -> None:
    urls = ResponseUrls()
    for n in range(5):
        respond = PooledRespond(urls, _url(hooks, f"/commands/T1/{n}/x?q=1"))
        assert respond(text=f"reply {n}", response_type="ephemeral", replace_original=False) == 200
    assert hooks.connections == 1
    assert [p["text"] for p in hooks.posts] == [f"reply {n}" for n in range(5)]
    assert hooks.posts[0] == {
        "path": "/commands/T1/0/x?q=1",
        "ctype": "application/json; charset=utf-8",
        "text": "reply 0",
        "response_type": "ephemeral",
        "replace_original": False,
    }


def test_a_connection_the_far_end_closed_is_replaced_and_the_reply_arrives_once(hooks: _Hooks) -> None:
    urls = ResponseUrls()
    hooks.close_after_answer = True  # says keep-alive, then hangs up: the next post meets a dead socket
    assert urls.post(_url(hooks), {"text": "first"}) == 200
    hooks.close_after_answer = False
    assert urls.post(_url(hooks), {"text": "second"}) == 200
    assert [p["text"] for p in hooks.posts] == ["first", "second"]
    assert hooks.connections == 2


def test_a_refusing_answer_is_returned_and_logged_without_the_url_or_text(
    hooks: _Hooks, caplog: pytest.LogCaptureFixture
) -> None:
    hooks.status = 404  # an expired response_url
    with caplog.at_level(logging.WARNING, logger="bot.slack.response_url"):
        assert ResponseUrls().post(_url(hooks, "/commands/T1/secret-path"), {"text": "private words"}) == 404
    assert "404" in caplog.text
    assert "secret-path" not in caplog.text and "private words" not in caplog.text


def test_a_host_that_is_not_there_raises_and_a_url_that_is_not_one_is_refused() -> None:
    with socket.socket() as sock:  # a loopback port bound and released: connecting is refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(OSError):
        ResponseUrls(timeout=2).post(f"http://127.0.0.1:{port}/commands/x", {"text": "x"})
    with pytest.raises(ValueError, match="http"):
        ResponseUrls().post("file:///etc/passwd", {"text": "x"})
    with pytest.raises(ValueError, match="no response_url"):
        PooledRespond(ResponseUrls(), None)(text="x")
