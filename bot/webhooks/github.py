"""GitHub's `issues` webhook at /webhooks/github: a closed or reopened issue is checked at the next tick.

GitHub signs each delivery with HMAC-SHA256 of the raw body under the webhook's secret, sent as
`X-Hub-Signature-256: sha256=<hex>` (https://docs.github.com/en/webhooks/using-webhooks/validating-
webhook-deliveries); a delivery without a valid signature is refused. The payload's state is not trusted:
it only makes the link's check due, and the check asks GitHub, once across replicas.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from bot.slack.request_gate import Answer
from bot.webhooks import WebhookHandler, WebhookRequest
from commands.ports import Clock
from commands.tracker_sync import TrackerUnitOfWorkFactory, check_soon

log = logging.getLogger(__name__)

_ACTIONS = frozenset({"closed", "reopened"})


def github_issues_webhook(
    secret: str, repo: str, uow: TrackerUnitOfWorkFactory, clock: Clock
) -> WebhookHandler:
    """The handler for one repository's issue events, signed with `secret`."""
    key = secret.encode()

    def handle(request: WebhookRequest) -> Answer:
        expected = "sha256=" + hmac.new(key, request.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("x-hub-signature-256", "")):
            log.warning("GitHub webhook refused: bad or missing signature")
            return Answer(401, "Invalid signature")
        event = request.headers.get("x-github-event", "")
        if event == "ping":
            return Answer(200, "pong")
        if event != "issues":
            return Answer(202, "Ignored")
        try:
            payload = json.loads(request.body)
            action = payload["action"]
            number = int(payload["issue"]["number"])
            full_name = payload["repository"]["full_name"]
        except (ValueError, KeyError, TypeError):
            return Answer(400, "Not an issues event")
        if action not in _ACTIONS or str(full_name).lower() != repo.lower():
            return Answer(202, "Ignored")
        check_soon(uow, clock, "github", f"#{number}")
        return Answer(202, "Accepted")

    return handle
