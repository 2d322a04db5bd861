"""The tracker port: what action items need from GitHub Issues, Jira and the like, as three verbs.

An issue is created once per action item; the item's marker (a hidden line in the body, or a label)
lets a retry find an issue an earlier, unrecorded attempt created, so it is not created twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

OPEN = "open"
CLOSED = "closed"


class TrackerError(Exception):
    """The tracker did not take the request (down, rate-limited, timed out): the job step is retried.

    `retry_after` is the tracker's own word on when to come back (seconds), when it gave one; `status`
    is the HTTP status it answered, None when no answer came (a timeout, a reset).
    """

    def __init__(self, what: str, *, retry_after: float | None = None, status: int | None = None) -> None:
        super().__init__(what)
        self.retry_after = retry_after
        self.status = status


class TrackerRefused(Exception):
    """The tracker can never take this request (a bad token, no such repo or project): say why, stop."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Issue:
    """An issue as people find it: the tracker's key ("#12", "OPS-7") and the link to open."""

    key: str
    url: str


class Tracker(Protocol):
    """Issues in one configured tracker; `name` ("github", "jira") is what links and done items record."""

    name: str

    def create_issue(self, title: str, body: str, labels: Sequence[str], *, marker: str) -> Issue:
        """Create an issue carrying `marker`, so find_issue can tell it was created."""
        ...

    def find_issue(self, marker: str) -> Issue | None:
        """The issue carrying `marker`, if an earlier attempt created it (crash recovery), else None."""
        ...

    def issue_state(self, key: str) -> str:
        """OPEN or CLOSED, as the tracker has it now."""
        ...


class NoTracker:
    """No tracker is configured: every request is refused with the reason."""

    name = "none"

    def create_issue(self, title: str, body: str, labels: Sequence[str], *, marker: str) -> Issue:
        del title, body, labels, marker
        raise TrackerRefused("no issue tracker is configured")

    def find_issue(self, marker: str) -> Issue | None:
        del marker
        raise TrackerRefused("no issue tracker is configured")

    def issue_state(self, key: str) -> str:
        del key
        raise TrackerRefused("no issue tracker is configured")
