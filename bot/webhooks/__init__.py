"""Inbound webhooks from other services (pagers, alerting): each name under /webhooks/ has one handler."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.slack.request_gate import Answer

WEBHOOK_PREFIX = "/webhooks/"
# Alertmanager groups and pager events are small; a body this size is not one of them.
MAX_WEBHOOK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class WebhookRequest:
    """A webhook POST as its handler sees it: raw body (signatures are over the bytes) and headers."""

    body: bytes
    # Lower-case header names: "authorization", "x-pagerduty-signature", "content-type".
    headers: Mapping[str, str]


# A handler authenticates the request itself and answers without echoing what it was sent.
WebhookHandler = Callable[[WebhookRequest], Answer]
