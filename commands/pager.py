"""The pager port: what paging needs from PagerDuty, Opsgenie and the like, as three verbs per alert.

A target names a pager service and a key, e.g. "pagerduty:payments" or "opsgenie:db"; one alert exists
per dedup key, so repeating a verb (a retried job step) changes nothing more at the pager.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class PagerError(Exception):
    """The pager did not take the request (down, rate-limited, timed out): the job step is retried.

    `retry_after` is the pager's own word on when to come back (seconds), when it gave one.
    """

    def __init__(self, what: str, *, retry_after: float | None = None) -> None:
        super().__init__(what)
        self.retry_after = retry_after


class PagerRefused(Exception):
    """The pager can never take this request (no key for the target, a key it rejects): say why, stop."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Pager(Protocol):
    """Alerts at pager services, by target; `priority` runs from 1 (the most urgent) to 5."""

    def trigger(
        self, target: str, dedup_key: str, summary: str, *, priority: int, details: Mapping[str, str]
    ) -> None:
        """Open the alert (or add to the open one with this key); the pager's own people are notified."""
        ...

    def acknowledge(self, target: str, dedup_key: str) -> None:
        """Someone answered in Slack: the pager stops escalating its alert."""
        ...

    def resolve(self, target: str, dedup_key: str) -> None:
        """The incident is resolved: close the alert."""
        ...


class NoPager:
    """No pager service is configured: every request is refused with the reason."""

    def trigger(
        self, target: str, dedup_key: str, summary: str, *, priority: int, details: Mapping[str, str]
    ) -> None:
        del dedup_key, summary, priority, details
        raise PagerRefused(f"no pager is configured for {target}")

    def acknowledge(self, target: str, dedup_key: str) -> None:
        del dedup_key
        raise PagerRefused(f"no pager is configured for {target}")

    def resolve(self, target: str, dedup_key: str) -> None:
        del dedup_key
        raise PagerRefused(f"no pager is configured for {target}")
