"""What the pager webhooks share: the acknowledgement callback, fixed answers and who acknowledged."""

from __future__ import annotations

import json
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from bot.slack.request_gate import Answer, RefusalLog

# (service "pagerduty" | "opsgenie", dedup key, who) -> whether a page was waiting for it. The paging
# feature's acknowledge_from_pager, bound to the runtime's unit of work, clock and lease.
OnAcknowledged = Callable[[str, str, str], bool]

ACKNOWLEDGED = Answer(202, "acknowledged")
NOTHING_WAITING = Answer(202, "no page waiting")
IGNORED = Answer(202, "ignored")
ALREADY_SEEN = Answer(202, "already handled")
MALFORMED = Answer(400, "Malformed request")
UNAUTHENTICATED = Answer(401, "Unauthorized")
# A dedup key longer than PagerDuty's (255) or Opsgenie's alias limit (512) is not one of ours.
MAX_KEY = 512
MAX_WHO = 80

refusals = RefusalLog()


def parse_object(body: bytes) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is not one."""
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def dedup_key(value: Any) -> str | None:
    """A usable dedup key or alias: a non-blank string within the pagers' limits."""
    if isinstance(value, str) and value.strip() and len(value) <= MAX_KEY:
        return value
    return None


def who_from(value: Any, fallback: str) -> str:
    """A display name from the pager: printable, short; the callback still escapes it for Slack."""
    if not isinstance(value, str):
        return fallback
    cleaned = "".join(c for c in value if unicodedata.category(c)[0] != "C").strip()
    return cleaned[:MAX_WHO] or fallback


class RecentIds:
    """Webhook ids already handled, the newest `size` of them: a redelivery is answered, not re-applied."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def seen(self, webhook_id: str) -> bool:
        with self._lock:
            return webhook_id in self._ids

    def add(self, webhook_id: str) -> None:
        with self._lock:
            self._ids[webhook_id] = None
            while len(self._ids) > self.size:
                self._ids.popitem(last=False)
