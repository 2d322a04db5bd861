"""Opsgenie's Alert API: create an alert with an alias, then acknowledge and close it by that alias."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import quote

from commands.pager import PagerError, PagerRefused

from .http import PagerRateLimited, post_json, retry_after

log = logging.getLogger(__name__)

SERVICE = "opsgenie"
ALERTS_PATH = "/v2/alerts"
SOURCE = "incidentbot"
# Alert API limits (docs.opsgenie.com, "Alert API": create alert).
MAX_MESSAGE = 130
MAX_DESCRIPTION = 15000
# Why Opsgenie refuses, by status (docs.opsgenie.com, "Response"), in words an operator can act on.
_REFUSALS = {
    400: "the request was not valid JSON",
    401: "the API key is invalid or its integration is disabled",
    402: "the Opsgenie plan does not allow this",
    403: "the API key may not do this (use an API integration's key)",
    404: "not found",
    422: "the alert is invalid",
}


class OpsgenieAlerts:
    """Create, acknowledge and close alerts at one Alert API base URL; the key comes with each call."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.url = base_url.rstrip("/") + ALERTS_PATH
        self.timeout = timeout

    def create(
        self, target: str, key: str, alias: str, summary: str, priority: int, details: Mapping[str, str]
    ) -> None:
        """Open the alert; Opsgenie folds a create for an open alert's alias into that alert."""
        body: dict[str, object] = {
            "message": _clip(summary, MAX_MESSAGE),
            "alias": alias,
            "priority": f"P{min(max(priority, 1), 5)}",
            "source": SOURCE,
            "details": dict(details),
        }
        if len(summary) > MAX_MESSAGE:
            body["description"] = _clip(summary, MAX_DESCRIPTION)  # the message holds only its start
        self._send(target, key, "create", self.url, body)

    def acknowledge(self, target: str, key: str, alias: str) -> None:
        """Stop Opsgenie notifying about the alert with this alias."""
        self._send(target, key, "acknowledge", self._by_alias(alias, "acknowledge"), {"source": SOURCE})

    def close(self, target: str, key: str, alias: str) -> None:
        """Close the alert with this alias."""
        self._send(target, key, "close", self._by_alias(alias, "close"), {"source": SOURCE})

    def _by_alias(self, alias: str, action: str) -> str:
        return f"{self.url}/{quote(alias, safe='')}/{action}?identifierType=alias"

    def _send(self, target: str, key: str, action: str, url: str, body: Mapping[str, object]) -> None:
        """202 means accepted (Opsgenie applies it asynchronously); 429 and 5xx retried; other 4xx refused."""
        answer = post_json(url, body, {"Authorization": f"GenieKey {key}"}, self.timeout)
        if 200 <= answer.status < 300:
            return
        log.warning("Opsgenie answered %s to %s for %s", answer.status, action, target)
        if answer.status == 429:
            wait = retry_after(answer.headers)
            raise PagerRateLimited("Opsgenie is rate-limiting requests (HTTP 429)", wait)
        if answer.status >= 500:
            raise PagerError(f"Opsgenie failed (HTTP {answer.status})")
        why = _REFUSALS.get(answer.status, "unexpected answer")
        raise PagerRefused(
            f"Opsgenie refused to {action} the alert for {target} (HTTP {answer.status}: {why})"
        )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
