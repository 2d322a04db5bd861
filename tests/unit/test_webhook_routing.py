"""/webhooks/<name> reaches its handler with the raw body and lower-cased headers; nothing else does."""

from __future__ import annotations

import io
from typing import Any, cast

from slack_bolt import App

from bot.slack.http import IncidentBotWsgi
from bot.slack.request_gate import Answer
from bot.webhooks import MAX_WEBHOOK_BYTES, WebhookRequest


def call(
    app: IncidentBotWsgi, path: str, body: bytes = b"", method: str = "POST", **headers: str
) -> tuple[str, bytes]:
    environ: dict[str, Any] = {
        "PATH_INFO": path,
        "REQUEST_METHOD": method,
        "CONTENT_LENGTH": headers.pop("content_length", str(len(body))),
        "CONTENT_TYPE": "application/json",
        "wsgi.input": io.BytesIO(body),
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
    }
    status: list[str] = []
    chunks = app(cast(Any, environ), lambda s, _h, _e=None: status.append(s) or (lambda _b: None))
    return status[0], b"".join(chunks)


def make(seen: list[WebhookRequest]) -> IncidentBotWsgi:
    def handler(request: WebhookRequest) -> Answer:
        seen.append(request)
        return Answer(202, "accepted")

    bolt = cast(App, object())  # never reached on these paths
    return IncidentBotWsgi(bolt, healthy=lambda: True, signing_secret="s", webhooks={"alerts": handler})


def test_a_named_webhook_gets_the_body_and_headers() -> None:
    seen: list[WebhookRequest] = []
    status, body = call(
        make(seen), "/webhooks/alerts", b'{"a": 1}', authorization="Bearer t", x_custom_id="7"
    )
    assert (status, body) == ("202 Accepted", b"accepted")
    [request] = seen
    assert request.body == b'{"a": 1}'
    assert request.headers["authorization"] == "Bearer t"
    assert request.headers["x-custom-id"] == "7"
    assert request.headers["content-type"] == "application/json"


def test_unknown_names_other_methods_and_oversized_or_malformed_bodies_never_reach_a_handler() -> None:
    seen: list[WebhookRequest] = []
    app = make(seen)
    assert call(app, "/webhooks/nope", b"{}")[0] == "404 Not Found"
    assert call(app, "/webhooks/alerts", method="GET")[0] == "404 Not Found"
    assert call(app, "/webhooks/alerts/x", b"{}")[0] == "404 Not Found"
    assert call(app, "/webhooks/alerts", content_length=str(MAX_WEBHOOK_BYTES + 1))[0].startswith("413")
    assert call(app, "/webhooks/alerts", content_length="12x")[0].startswith("400")
    assert seen == []
