"""PagerDuty's Events API v2: trigger, acknowledge and resolve an alert by dedup key on one integration."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from commands.pager import PagerError, PagerRefused

from .http import PagerRateLimited, post_json, retry_after

log = logging.getLogger(__name__)

SERVICE = "pagerduty"
ENQUEUE_PATH = "/v2/enqueue"
SOURCE = "incidentbot"
# Events API v2 limits (developer.pagerduty.com, "Send an Alert Event").
MAX_SUMMARY = 1024
# Priority 1 (the most urgent) .. 5 onto PD-CEF's four severities.
SEVERITIES = {1: "critical", 2: "error", 3: "warning", 4: "info", 5: "info"}


class PagerDutyEvents:
    """Send alert events to one Events API v2 base URL; the routing key comes with each call."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.url = base_url.rstrip("/") + ENQUEUE_PATH
        self.timeout = timeout

    def trigger(
        self, target: str, key: str, dedup_key: str, summary: str, priority: int, details: Mapping[str, str]
    ) -> None:
        """Open the alert, or add a trigger to the open one with this dedup key."""
        self._send(
            target,
            {
                "routing_key": key,
                "event_action": "trigger",
                "dedup_key": dedup_key,
                "payload": {
                    "summary": _clip(summary, MAX_SUMMARY),
                    "source": SOURCE,
                    "severity": SEVERITIES[min(max(priority, 1), 5)],
                    "custom_details": dict(details),
                },
            },
        )

    def acknowledge(self, target: str, key: str, dedup_key: str) -> None:
        """Stop PagerDuty escalating the alert (dropped by PagerDuty when it is not open)."""
        self._send(target, {"routing_key": key, "event_action": "acknowledge", "dedup_key": dedup_key})

    def resolve(self, target: str, key: str, dedup_key: str) -> None:
        """Resolve the alert (dropped by PagerDuty when it is not open)."""
        self._send(target, {"routing_key": key, "event_action": "resolve", "dedup_key": dedup_key})

    def _send(self, target: str, event: Mapping[str, object]) -> None:
        """Map the documented answers: 202 done; 429, 5xx and no answer retried; any other 4xx refused."""
        answer = post_json(self.url, event, {}, self.timeout)
        action = event["event_action"]
        if 200 <= answer.status < 300:  # 202 Accepted is the documented answer
            return
        log.warning("PagerDuty answered %s to a %s event for %s", answer.status, action, target)
        if answer.status == 429:
            wait = retry_after(answer.headers)
            raise PagerRateLimited("PagerDuty is rate-limiting events (HTTP 429)", wait)
        if answer.status >= 500:
            raise PagerError(f"PagerDuty failed (HTTP {answer.status})")
        if answer.status == 400:
            raise PagerRefused(
                f"PagerDuty refused the {action} event for {target} (HTTP 400: an unknown integration key "
                "or an invalid event)"
            )
        raise PagerRefused(f"PagerDuty refused the {action} event for {target} (HTTP {answer.status})")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
