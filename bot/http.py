"""The WSGI application: Slack's endpoint through Bolt, and a health check that reflects the database."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

SLACK_PATH = "/slack/events"


class IncidentBotWsgi:
    """Route /healthz here and everything else to Bolt's WSGI handler (which answers 404 off its path)."""

    def __init__(self, bolt: App, healthy: Callable[[], bool]) -> None:
        self.slack = SlackRequestHandler(bolt, path=SLACK_PATH)
        self.healthy = healthy

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            ok = self.healthy()
            body = b'{"ok": true}' if ok else b'{"ok": false, "error": "database unreachable"}'
            start_response(
                "200 OK" if ok else "503 Service Unavailable",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return self.slack(environ, start_response)
