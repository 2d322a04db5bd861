"""Opsgenie emulator: the Alert API's create, acknowledge and close, and its webhook integration.

Rules modelled, from docs.opsgenie.com ("Alert API", "Response", "Webhook Integration", "Alert action
data"):
- Every request carries `Authorization: GenieKey <key>` of an API integration; a missing or unknown key
  answers 401.
- The body is JSON (else 400). Create needs `message` (at most 130 characters); `alias` at most 512,
  `description` at most 15000, `source` and `user` at most 100, at most 20 `tags` of at most 50 characters,
  `priority` one of P1..P5, `details` a map of strings; a rule broken answers 422.
- Create, acknowledge and close answer 202 {"result": "Request will be processed", "took", "requestId"}:
  they are applied asynchronously, so acknowledging or closing an alias with no open alert is accepted
  and fails only in the request's status (GET /v2/alerts/requests/<requestId>).
- identifierType is id, tiny or alias (default id). A create with the alias of an open alert adds to its
  count rather than opening another; after it is closed the alias opens a new alert.
- The webhook integration POSTs {"action": "Acknowledge", "alert": {..., "alias", "username"}, "source",
  "integrationId", "integrationName"} with whatever custom headers the integration is configured with.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from .pager_service import Reply, Request, ServiceEmulator, deliver

CREATE, ACKNOWLEDGE, CLOSE, REQUEST_STATUS = "create", "acknowledge", "close", "request-status"
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
IDENTIFIER_TYPES = ("id", "tiny", "alias")
LIMITS = {"message": 130, "alias": 512, "description": 15000, "source": 100, "user": 100, "note": 25000}
MAX_TAGS, MAX_TAG = 20, 50
ALERTS = "/v2/alerts"
REQUESTS = "/v2/alerts/requests/"


@dataclass
class OpsgenieAlert:
    """One alert: "triggered" (open), "acknowledged" (open, acknowledged) or "resolved" (closed)."""

    id: str
    tiny_id: str
    alias: str
    message: str
    priority: str
    description: str
    details: dict[str, str]
    status: str = "triggered"
    count: int = 1
    acknowledged_by: str | None = None
    created_at: int = field(default_factory=lambda: int(time.time() * 1000))


class OpsgenieEmulator(ServiceEmulator):
    """A local Alert API; webhooks go out with `webhook_headers` (the integration's custom headers)."""

    thread_name = "opsgenie-emulator"

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, webhook_headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(host, port)
        self.webhook_headers = dict(webhook_headers or {})
        self.api_keys: set[str] = set()
        self._alerts: list[OpsgenieAlert] = []
        self._requests: dict[str, dict[str, Any]] = {}
        self._tiny = itertools.count(1)

    def add_api_key(self) -> str:
        """Create an API integration and return its key (a UUID, as Opsgenie issues them)."""
        key = str(uuid.uuid4())
        with self.lock:
            self.api_keys.add(key)
        return key

    # -- state -----------------------------------------------------------------------------------------
    @property
    def alerts(self) -> list[OpsgenieAlert]:
        """Every alert ever created, oldest first."""
        with self.lock:
            return list(self._alerts)

    def alert(self, alias: str) -> OpsgenieAlert:
        """The newest alert with this alias; raises KeyError when there is none."""
        with self.lock:
            for alert in reversed(self._alerts):
                if alert.alias == alias:
                    return alert
        raise KeyError(alias)

    def _find(self, identifier: str, kind: str) -> OpsgenieAlert | None:
        for alert in reversed(self._alerts):
            value = {"id": alert.id, "tiny": alert.tiny_id, "alias": alert.alias}[kind]
            if value == identifier and (kind != "alias" or alert.status != "resolved"):
                return alert
        return None

    # -- the Alert API ---------------------------------------------------------------------------------
    def operation_of(self, method: str, path: str) -> str | None:
        if method == "GET" and path.startswith(REQUESTS):
            return REQUEST_STATUS
        if method != "POST":
            return None
        if path == ALERTS:
            return CREATE
        for action in (ACKNOWLEDGE, CLOSE):
            suffix = f"/{action}"
            if (
                path.startswith(ALERTS + "/")
                and path.endswith(suffix)
                and len(path) > len(ALERTS) + 1 + len(suffix)
            ):
                return action
        return None

    def error_reply(self, status: int, error: str) -> Reply:
        messages = {
            401: "Could not authenticate",
            404: "Not found",
            413: "Request entity too large",
            429: "You are making too many requests! To avoid errors, we recommend you limit requests.",
        }
        reply = Reply(
            status, {"message": messages.get(status, error), "took": 0.001, "requestId": str(uuid.uuid4())}
        )
        if status == 429:
            reply.headers["X-RateLimit-State"] = "THROTTLED"
        return reply

    def handle(self, operation: str, request: Request) -> Reply:
        auth = request.headers.get("authorization", "")
        scheme, _, key = auth.partition(" ")
        with self.lock:
            if scheme != "GenieKey" or key.strip() not in self.api_keys:
                return self.error_reply(401, "unauthenticated")
        if operation == REQUEST_STATUS:
            return self._status(request.path[len(REQUESTS) :])
        body: Any = {}
        if request.raw:
            try:
                body = json.loads(request.raw)
            except (ValueError, UnicodeDecodeError):
                return Reply(
                    400,
                    {
                        "message": "Could not parse the request body as JSON",
                        "took": 0.001,
                        "requestId": str(uuid.uuid4()),
                    },
                )
        if not isinstance(body, dict):
            return Reply(
                400,
                {
                    "message": "Request body must be a JSON object",
                    "took": 0.001,
                    "requestId": str(uuid.uuid4()),
                },
            )
        errors = _field_errors(body, creating=operation == CREATE)
        kind = (request.query.get("identifierType") or ["id"])[0]
        if operation != CREATE and kind not in IDENTIFIER_TYPES:
            errors["identifierType"] = "Invalid identifierType. Should be one of id, tiny, alias."
        if errors:
            return Reply(
                422,
                {
                    "message": "Request body is not processable. Please check the errors.",
                    "errors": errors,
                    "took": 0.001,
                    "requestId": str(uuid.uuid4()),
                },
            )
        request_id = str(uuid.uuid4())
        with self.lock:
            if operation == CREATE:
                outcome = self._create(body)
            else:
                identifier = unquote(request.path[len(ALERTS) + 1 : -len(f"/{operation}")])
                outcome = self._act(operation, identifier, kind, body)
            self._requests[request_id] = outcome
        return Reply(202, {"result": "Request will be processed", "took": 0.002, "requestId": request_id})

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        message = body["message"]
        alias = body.get("alias") or message  # Opsgenie: the alias defaults to the message
        alert = self._find(alias, "alias")
        if alert is not None:
            alert.count += 1
            return {
                "success": True,
                "action": "Create",
                "status": "Alert is deduplicated",
                "alertId": alert.id,
                "alias": alias,
            }
        alert = OpsgenieAlert(
            id=str(uuid.uuid4()),
            tiny_id=str(next(self._tiny)),
            alias=alias,
            message=message,
            priority=body.get("priority", "P3"),
            description=body.get("description", ""),
            details=dict(body.get("details") or {}),
        )
        self._alerts.append(alert)
        return {
            "success": True,
            "action": "Create",
            "status": "Created alert",
            "alertId": alert.id,
            "alias": alias,
        }

    def _act(self, operation: str, identifier: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        action = "Acknowledge" if operation == ACKNOWLEDGE else "Close"
        alert = self._find(identifier, kind)
        if alert is None or alert.status == "resolved":
            return {
                "success": False,
                "action": action,
                "status": "Alert does not exist",
                "alertId": "",
                "alias": identifier,
            }
        if operation == ACKNOWLEDGE:
            if alert.status == "triggered":
                alert.status, alert.acknowledged_by = "acknowledged", body.get("user") or body.get("source")
        else:
            alert.status = "resolved"
        return {
            "success": True,
            "action": action,
            "status": f"{action}d alert",
            "alertId": alert.id,
            "alias": alert.alias,
        }

    def _status(self, request_id: str) -> Reply:
        with self.lock:
            outcome = self._requests.get(request_id)
        if outcome is None:
            return self.error_reply(404, "Request not found")
        return Reply(
            200,
            {
                "data": {**outcome, "isSuccess": outcome["success"]},
                "took": 0.001,
                "requestId": str(uuid.uuid4()),
            },
        )

    # -- a responder, and the webhook integration ------------------------------------------------------
    def acknowledge(self, alias: str, who: str, deliver_to: str) -> int:
        """A responder acknowledges in Opsgenie: the webhook integration tells the bot. Returns its status.

        Raises KeyError when no open, unacknowledged alert has this alias.
        """
        with self.lock:
            alert = self._find(alias, "alias")
            if alert is None or alert.status != "triggered":
                raise KeyError(alias)
            alert.status, alert.acknowledged_by = "acknowledged", who
        return self.send_webhook(deliver_to, self.webhook_body("Acknowledge", alert, who))

    def webhook_body(self, action: str, alert: OpsgenieAlert, who: str) -> bytes:
        """The webhook integration's alert action data for `action` on this alert."""
        return json.dumps(
            {
                "source": {"name": "", "type": "mobile"},
                "alert": {
                    "updatedAt": time.time_ns(),
                    "tags": [],
                    "message": alert.message,
                    "username": who,
                    "alertId": alert.id,
                    "source": "incidentbot",
                    "alias": alert.alias,
                    "tinyId": alert.tiny_id,
                    "createdAt": alert.created_at,
                    "userId": str(uuid.uuid5(uuid.NAMESPACE_DNS, who)),
                    "entity": "",
                },
                "action": action,
                "integrationId": "7c6f0e5e-1f0a-4d7e-9a55-0e5e0b1e7e11",
                "integrationName": "Webhook",
            }
        ).encode()

    def send_webhook(self, url: str, body: bytes) -> int:
        """Deliver a webhook with the integration's configured custom headers."""
        return deliver(url, body, {"Content-Type": "application/json", **self.webhook_headers})


def _field_errors(body: dict[str, Any], *, creating: bool) -> dict[str, str]:
    """Opsgenie's 422 field errors for a create (or an acknowledge/close body's user, source, note)."""
    errors: dict[str, str] = {}
    if creating:
        message = body.get("message")
        if not isinstance(message, str) or not message.strip():
            errors["message"] = "Message can not be empty."
    for name, limit in LIMITS.items():
        value = body.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            errors[name] = f"{name} must be a string of at most {limit} characters"
    if not creating:
        return errors
    if body.get("priority", "P3") not in PRIORITIES:
        errors["priority"] = "Priority should be one of [P1, P2, P3, P4, P5]"
    details = body.get("details")
    if details is not None and (
        not isinstance(details, dict) or not all(isinstance(v, str) for v in details.values())
    ):
        errors["details"] = "details must be a map of strings"
    tags = body.get("tags")
    if tags is not None and (
        not isinstance(tags, list)
        or len(tags) > MAX_TAGS
        or not all(isinstance(t, str) and len(t) <= MAX_TAG for t in tags)
    ):
        errors["tags"] = f"at most {MAX_TAGS} tags of at most {MAX_TAG} characters"
    return errors
