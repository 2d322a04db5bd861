"""POST /webhooks/opsgenie: Opsgenie's webhook integration; an "Acknowledge" action acknowledges the page.

Opsgenie signs nothing; its webhook integration sends custom headers, so the operator adds
`Authorization: Bearer <INCIDENTBOT_OPSGENIE_WEBHOOK_TOKEN>`, compared here in constant time. The payload
is Opsgenie's alert action data (docs.opsgenie.com): "action", and "alert" with "alias" and "username".
"""

from __future__ import annotations

import hmac

from bot.slack.request_gate import Answer
from bot.webhooks import WebhookRequest

from .pager_acks import (
    ACKNOWLEDGED,
    IGNORED,
    MALFORMED,
    NOTHING_WAITING,
    UNAUTHENTICATED,
    OnAcknowledged,
    dedup_key,
    parse_object,
    refusals,
    who_from,
)

SERVICE = "opsgenie"
ACKNOWLEDGE_ACTION = "Acknowledge"


class OpsgenieWebhook:
    """The handler: check the token, parse, then tell `on_acknowledged` about Acknowledge actions."""

    def __init__(self, token: str, on_acknowledged: OnAcknowledged) -> None:
        self._expected = f"Bearer {token}".encode()
        self.on_acknowledged = on_acknowledged

    def __call__(self, request: WebhookRequest) -> Answer:
        given = request.headers.get("authorization", "").strip().encode()
        if not hmac.compare_digest(given, self._expected):
            refusals.refused("Opsgenie webhook without the right token")
            return UNAUTHENTICATED
        payload = parse_object(request.body)
        if payload is None or not isinstance(payload.get("action"), str):
            refusals.refused("Opsgenie webhook that is not alert action data")
            return MALFORMED
        if payload["action"] != ACKNOWLEDGE_ACTION:
            return IGNORED
        alert = payload.get("alert")
        alias = dedup_key(alert.get("alias")) if isinstance(alert, dict) else None
        if alias is None or not isinstance(alert, dict):
            refusals.refused("Opsgenie Acknowledge without an alert alias")
            return MALFORMED
        who = who_from(alert.get("username"), "someone in Opsgenie")
        return ACKNOWLEDGED if self.on_acknowledged(SERVICE, alias, who) else NOTHING_WAITING
