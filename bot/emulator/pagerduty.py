"""PagerDuty emulator: the Events API v2 (/v2/enqueue) and v3 webhooks, as strict as PagerDuty documents.

Rules modelled, from developer.pagerduty.com ("Send an Alert Event", "Events API v2 Overview",
"Webhooks: Overview, Behavior, Verifying Signatures"):
- routing_key is required and is a 32-character integration key; an unknown one answers 400.
- event_action is trigger, acknowledge or resolve; dedup_key is at most 255 characters and is required
  for acknowledge and resolve; a trigger without one gets a generated key back.
- A trigger needs payload.summary (at most 1024 characters), payload.source and payload.severity
  (critical, error, warning or info); custom_details, when given, is an object.
- Accepted events answer 202 {"status": "success", "message": "Event processed", "dedup_key": ...};
  invalid ones 400 {"status": "invalid event", "message": "Event object is invalid", "errors": [...]}.
- A trigger for an open alert's dedup key adds to it; after it is resolved a trigger opens a new alert;
  acknowledge and resolve for no open alert, or from another routing key, are accepted and dropped.
- A v3 webhook carries one event; X-PagerDuty-Signature holds "v1=<hex HMAC-SHA256 of the raw body>" per
  signing secret, comma-separated; X-Webhook-Id repeats on each delivery attempt of one webhook.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .pager_service import Reply, Request, ServiceEmulator, deliver

ENQUEUE = "enqueue"
ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
ROUTING_KEY_LENGTH = 32
MAX_DEDUP_KEY = 255
MAX_SUMMARY = 1024
USER_AGENT = "PagerDuty-Webhook/V3.0"


@dataclass
class PagerDutyAlert:
    """One alert, by routing key and dedup key: "triggered", "acknowledged" or "resolved"."""

    routing_key: str
    dedup_key: str
    summary: str
    severity: str
    source: str
    custom_details: dict[str, Any]
    status: str = "triggered"
    triggers: int = 1
    incident_id: str = field(default_factory=lambda: "Q" + secrets.token_hex(6).upper())
    acknowledged_by: str | None = None


class PagerDutyEmulator(ServiceEmulator):
    """A local Events API v2 with webhook deliveries signed by `webhook_secrets` (several: a rotation)."""

    thread_name = "pagerduty-emulator"

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, webhook_secrets: Sequence[str] = ("pd-webhook-secret",)
    ) -> None:
        super().__init__(host, port)
        self.webhook_secrets = list(webhook_secrets)
        self.routing_keys: set[str] = set()
        self._alerts: list[PagerDutyAlert] = []

    def add_routing_key(self) -> str:
        """Create an Events API v2 integration and return its 32-character integration key."""
        key = secrets.token_hex(ROUTING_KEY_LENGTH // 2)
        with self.lock:
            self.routing_keys.add(key)
        return key

    # -- state -----------------------------------------------------------------------------------------
    @property
    def alerts(self) -> list[PagerDutyAlert]:
        """Every alert ever opened, oldest first."""
        with self.lock:
            return list(self._alerts)

    def alert(self, dedup_key: str) -> PagerDutyAlert:
        """The newest alert with this dedup key; raises KeyError when there is none."""
        with self.lock:
            for alert in reversed(self._alerts):
                if alert.dedup_key == dedup_key:
                    return alert
        raise KeyError(dedup_key)

    def _open(self, routing_key: str, dedup_key: str) -> PagerDutyAlert | None:
        for alert in reversed(self._alerts):
            if (
                alert.routing_key == routing_key
                and alert.dedup_key == dedup_key
                and alert.status != "resolved"
            ):
                return alert
        return None

    # -- the Events API --------------------------------------------------------------------------------
    def operation_of(self, method: str, path: str) -> str | None:
        return ENQUEUE if (method, path) == ("POST", "/v2/enqueue") else None

    def error_reply(self, status: int, error: str) -> Reply:
        if status == 429:
            return Reply(
                429,
                {
                    "status": "throttle event",
                    "message": "Requests for this service are arriving too quickly.  Please retry later.",
                },
            )
        if status == 400 or status == 413:
            return Reply(
                400, {"status": "invalid event", "message": "Event object is invalid", "errors": [error]}
            )
        return Reply(status, {"status": "unrecognized object", "message": error})

    def handle(self, operation: str, request: Request) -> Reply:
        del operation
        try:
            event = json.loads(request.raw)
        except (ValueError, UnicodeDecodeError):
            return self.error_reply(400, "Event object must be valid JSON")
        if not isinstance(event, dict):
            return self.error_reply(400, "Event object must be a JSON object")
        errors = _event_errors(event)
        if errors:
            return Reply(
                400, {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
            )
        with self.lock:
            if event["routing_key"] not in self.routing_keys:
                return self.error_reply(400, "Invalid routing key")
            dedup_key = str(event.get("dedup_key") or uuid.uuid4().hex)
            self._apply(event, dedup_key)
        return Reply(202, {"status": "success", "message": "Event processed", "dedup_key": dedup_key})

    def _apply(self, event: dict[str, Any], dedup_key: str) -> None:
        routing_key, action = event["routing_key"], event["event_action"]
        alert = self._open(routing_key, dedup_key)
        if action == "trigger":
            payload = event["payload"]
            if alert is None:
                self._alerts.append(
                    PagerDutyAlert(
                        routing_key,
                        dedup_key,
                        payload["summary"],
                        payload["severity"],
                        payload["source"],
                        dict(payload.get("custom_details") or {}),
                    )
                )
            else:
                alert.triggers += 1  # an acknowledged alert stays acknowledged: no new notification
        elif alert is not None:
            alert.status = "acknowledged" if action == "acknowledge" else "resolved"
        # acknowledge/resolve with no open alert for this routing key: accepted and dropped, as documented

    # -- a responder, and PagerDuty's webhooks ---------------------------------------------------------
    def acknowledge(self, dedup_key: str, who: str, deliver_to: str) -> int:
        """A responder acknowledges in PagerDuty: the alert's incident.acknowledged webhook goes to the bot.

        Returns the HTTP status the bot answered. Raises KeyError when no alert with the key is open.
        """
        with self.lock:
            alert = next(
                (a for a in reversed(self._alerts) if a.dedup_key == dedup_key and a.status == "triggered"),
                None,
            )
            if alert is None:
                raise KeyError(dedup_key)
            alert.status, alert.acknowledged_by = "acknowledged", who
        return self.send_webhook(deliver_to, self.webhook_body("incident.acknowledged", alert, who))

    def webhook_body(self, event_type: str, alert: PagerDutyAlert, who: str | None) -> bytes:
        """A v3 webhook payload for an incident event on this alert, `who` as its agent."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        agent = (
            None
            if who is None
            else {"id": "PUSER01", "type": "user_reference", "summary": who, "self": "", "html_url": ""}
        )
        event = {
            "event": {
                "id": uuid.uuid4().hex,
                "event_type": event_type,
                "resource_type": "incident",
                "occurred_at": now,
                "agent": agent,
                "client": None,
                "data": {
                    "id": alert.incident_id,
                    "type": "incident",
                    "number": 1,
                    "status": alert.status,
                    "incident_key": alert.dedup_key,
                    "title": alert.summary,
                    "urgency": "high",
                },
            }
        }
        return json.dumps(event).encode()

    def send_webhook(self, url: str, body: bytes, webhook_id: str | None = None) -> int:
        """Deliver a webhook signed with every current secret; reuse `webhook_id` to model a redelivery."""
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Webhook-Id": webhook_id or str(uuid.uuid4()),
            "X-Webhook-Subscription": "PSUBSCR",
            "X-PagerDuty-Signature": signature_header(body, self.webhook_secrets),
        }
        return deliver(url, body, headers)


def signature_header(body: bytes, signing_secrets: Sequence[str]) -> str:
    """X-PagerDuty-Signature: one v1=<hex HMAC-SHA256> per secret, comma-separated."""
    return ",".join(
        "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest() for secret in signing_secrets
    )


def _event_errors(event: dict[str, Any]) -> list[str]:
    """What PagerDuty would reject in this event, in its own words where known."""
    errors: list[str] = []
    key = event.get("routing_key")
    if not isinstance(key, str) or not key:
        errors.append("'routing_key' is missing or blank")
    elif len(key) != ROUTING_KEY_LENGTH:
        errors.append(f"Length of 'routing_key' is incorrect (should be {ROUTING_KEY_LENGTH} characters)")
    action = event.get("event_action")
    if action not in ACTIONS:
        errors.append("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)")
    dedup_key = event.get("dedup_key")
    if dedup_key is not None and (not isinstance(dedup_key, str) or len(dedup_key) > MAX_DEDUP_KEY):
        errors.append(f"'dedup_key' must be a string of at most {MAX_DEDUP_KEY} characters")
    if action in ("acknowledge", "resolve") and not dedup_key:
        errors.append("'dedup_key' is required for acknowledge and resolve events")
    if action == "trigger":
        errors.extend(_payload_errors(event.get("payload")))
    return errors


def _payload_errors(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return ["'payload' is missing or not an object"]
    errors: list[str] = []
    summary = payload.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        errors.append("'payload.summary' is missing or blank")
    elif len(summary) > MAX_SUMMARY:
        errors.append(f"'payload.summary' must be at most {MAX_SUMMARY} characters")
    source = payload.get("source")
    if not isinstance(source, str) or not source.strip():
        errors.append("'payload.source' is missing or blank")
    if payload.get("severity") not in SEVERITIES:
        errors.append("'payload.severity' is invalid (must be one of: critical, error, warning, info)")
    details = payload.get("custom_details")
    if details is not None and not isinstance(details, dict):
        errors.append("'payload.custom_details' must be an object")
    return errors
