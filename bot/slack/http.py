"""The WSGI application: Slack's endpoint gated before Bolt, and a health check that reflects the database."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse

from bot.ops.logsafe import keep_request_bodies_out_of_bolt_logs
from bot.pipeline.arrivals import Arrivals
from bot.slack.request_gate import TOO_LARGE, Answer, RequestGate
from bot.webhooks import MAX_WEBHOOK_BYTES, WEBHOOK_PREFIX, WebhookHandler, WebhookRequest

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

    from bot.listeners.direct import DirectCommands

SLACK_PATH = "/slack/events"
NOT_FOUND = Answer(404, "Not Found")
BAD_LENGTH = Answer(400, "Malformed request")


class IncidentBotWsgi:
    """Route /healthz here, Slack's POSTs through the gate to Bolt, /webhooks/<name> to its handler;
    anything else is 404."""

    def __init__(
        self,
        bolt: App,
        healthy: Callable[[], bool],
        signing_secret: str,
        webhooks: Mapping[str, WebhookHandler] | None = None,
        direct: DirectCommands | None = None,
        arrivals: Arrivals | None = None,
    ) -> None:
        self.bolt = bolt
        self.arrivals = arrivals or Arrivals()
        self.direct = direct
        self.gate = RequestGate(signing_secret)
        self.healthy = healthy
        self.webhooks = dict(webhooks or {})
        keep_request_bodies_out_of_bolt_logs()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == "/healthz" and method in ("GET", "HEAD"):
            ok = self.healthy()
            body = '{"ok": true}' if ok else '{"ok": false, "error": "database unreachable"}'
            return _respond(start_response, Answer(200 if ok else 503, body, "application/json"))
        if path == SLACK_PATH and method == "POST":
            with self.arrivals.arriving():
                return self._slack(environ, start_response)
        if path and path.startswith(WEBHOOK_PREFIX) and method == "POST":
            handler = self.webhooks.get(path[len(WEBHOOK_PREFIX) :])
            if handler is not None:
                return _respond(start_response, _webhook(handler, environ))
        return _respond(start_response, NOT_FOUND)

    def _slack(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        signed = self.gate.verify(environ)
        if isinstance(signed, Answer):
            return _respond(start_response, signed)
        # Our slash commands skip Bolt's dispatch (see bot.listeners.direct); everything else goes to Bolt.
        answered = self.direct.answer(signed.body, signed.content_type) if self.direct is not None else None
        if answered is not None:
            response = answered
        else:
            admitted = self.gate.to_bolt(signed, environ)
            if isinstance(admitted, Answer):
                return _respond(start_response, admitted)
            response = self.bolt.dispatch(admitted)
        wsgi = WsgiHttpResponse(status=response.status, headers=response.headers, body=response.body)
        start_response(wsgi.status, wsgi.get_headers())
        return wsgi.get_body()


def _webhook(handler: WebhookHandler, environ: WSGIEnvironment) -> Answer:
    """Read a bounded body and hand it over with lower-cased header names."""
    raw = environ.get("CONTENT_LENGTH") or "0"
    if not (raw.isascii() and raw.isdigit()):
        return BAD_LENGTH
    length = int(raw)
    if length > MAX_WEBHOOK_BYTES:
        return TOO_LARGE
    body: bytes = environ["wsgi.input"].read(length) if length else b""
    headers = {
        key[5:].replace("_", "-").lower(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if "CONTENT_TYPE" in environ:
        headers["content-type"] = str(environ["CONTENT_TYPE"])
    return handler(WebhookRequest(body=body, headers=headers))


def _respond(start_response: StartResponse, answer: Answer) -> Iterable[bytes]:
    body = answer.body.encode("utf-8")
    status = HTTPStatus(answer.status)
    start_response(
        f"{status.value} {status.phrase}",
        [("Content-Type", answer.content_type), ("Content-Length", str(len(body)))],
    )
    return [body]
