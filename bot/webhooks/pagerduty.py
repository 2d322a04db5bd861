"""POST /webhooks/pagerduty: PagerDuty v3 webhooks; a signed incident.acknowledged acknowledges the page.

developer.pagerduty.com, "Verifying Signatures": X-PagerDuty-Signature holds one or more comma-separated
signatures, each "v1=" and the hex HMAC-SHA256 of the raw body under a subscription's signing secret;
one match is enough. v3 signs no timestamp, so a replayed delivery cannot be told by age: its
X-Webhook-Id (the same on every delivery attempt, "Behavior") is remembered, and acknowledging is
idempotent besides.
"""

from __future__ import annotations

import hashlib
import hmac

from bot.slack.request_gate import Answer
from bot.webhooks import WebhookRequest

from .pager_acks import (
    ACKNOWLEDGED,
    ALREADY_SEEN,
    IGNORED,
    MALFORMED,
    NOTHING_WAITING,
    UNAUTHENTICATED,
    OnAcknowledged,
    RecentIds,
    dedup_key,
    parse_object,
    refusals,
    who_from,
)

SERVICE = "pagerduty"
SIGNATURE_HEADER = "x-pagerduty-signature"
WEBHOOK_ID_HEADER = "x-webhook-id"
ACKNOWLEDGED_EVENT = "incident.acknowledged"
# A rotation has two secrets at a time; a header with far more signatures is not PagerDuty's.
MAX_SIGNATURES = 8


def verify_signature(secret: bytes, body: bytes, header: str) -> bool:
    """Whether any v1 signature in the header is the HMAC-SHA256 of the body (constant-time compare)."""
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    signatures = [s.strip() for s in header.split(",")][:MAX_SIGNATURES]
    matched = False
    for signature in signatures:
        version, _, digest = signature.partition("=")
        if version == "v1" and hmac.compare_digest(digest.lower().encode(), expected.encode()):
            matched = True  # no early exit: every signature costs the same
    return matched


class PagerDutyWebhook:
    """The handler: verify, parse, then tell `on_acknowledged` about incident.acknowledged events."""

    def __init__(self, secret: str, on_acknowledged: OnAcknowledged) -> None:
        self._secret = secret.encode()
        self.on_acknowledged = on_acknowledged
        self.recent = RecentIds()

    def __call__(self, request: WebhookRequest) -> Answer:
        header = request.headers.get(SIGNATURE_HEADER, "")
        if not header or not verify_signature(self._secret, request.body, header):
            refusals.refused("PagerDuty webhook without a valid signature")
            return UNAUTHENTICATED
        payload = parse_object(request.body)
        event = payload.get("event") if payload else None
        if not isinstance(event, dict) or not isinstance(event.get("event_type"), str):
            refusals.refused("PagerDuty webhook that is not a v3 event")
            return MALFORMED
        if event["event_type"] != ACKNOWLEDGED_EVENT:
            return IGNORED
        data = event.get("data")
        if not isinstance(data, dict):
            refusals.refused("PagerDuty incident.acknowledged without incident data")
            return MALFORMED
        key = dedup_key(data.get("incident_key"))
        if key is None:
            # An incident opened in PagerDuty itself has no key of ours. Answer 2xx: PagerDuty drops a
            # 4xx without retrying, and repeated failures may disable the subscription.
            return IGNORED
        webhook_id = request.headers.get(WEBHOOK_ID_HEADER, "")
        if webhook_id and self.recent.seen(webhook_id):
            return ALREADY_SEEN
        agent = event.get("agent")
        who = who_from(agent.get("summary") if isinstance(agent, dict) else None, "someone in PagerDuty")
        waiting = self.on_acknowledged(SERVICE, key, who)
        if webhook_id:
            self.recent.add(webhook_id)  # only once handled: a failed attempt is redelivered and retried
        return ACKNOWLEDGED if waiting else NOTHING_WAITING
