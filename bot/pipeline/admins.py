"""Who the admins are, answered without a Slack call: what an acknowledgement waits for never asks Slack.

Configured `admins` are known at once. The `admin_group`'s members come from usergroups.users.list,
fetched off the acknowledgement path (by the periodic tick, or on a worker when a check found them
unknown) at most once a minute, and used while at most `TRUST_FOR` old, so a Slack outage does not lock
the admins out in the middle of an incident. Before the first fetch, and once the last one is older than
that, membership is unknown: a check that only admin-group membership could pass says "try again in a
moment" rather than wait on Slack.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from typing import Any

from commands.errors import ChatError, IncidentError

log = logging.getLogger(__name__)

REFRESH_EVERY = 60.0  # seconds between fetches while Slack answers (usergroups.users.list is Tier 2)
RETRY_AFTER = 10.0  # seconds between attempts while it does not
TRUST_FOR = 600.0  # seconds a fetched membership is used for when no later fetch has worked


class AdminDirectory:
    """Configured admin IDs plus a cached, periodically refreshed copy of the admin group's members."""

    def __init__(
        self,
        ids: Collection[str],
        group: str | None,
        fetch: Callable[[str], list[str]],
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ids = frozenset(ids)
        self._group = group
        self._fetch = fetch
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._members: frozenset[str] | None = None
        self._fetched_at = 0.0
        self._attempted_at: float | None = None
        self._failed = False
        self._refreshing = False

    def is_admin(self, user_id: str) -> bool | None:
        """True or False from what is known now; None while the admin group's membership is not known."""
        if user_id in self._ids:
            return True
        if self._group is None:
            return False
        with self._lock:
            members = self._known()
        return None if members is None else user_id in members

    def start_refresh(self, submit: Callable[[Callable[[], None]], Any]) -> bool:
        """Hand a fetch to `submit` (a worker pool) when one is due and none is running; True if so."""
        with self._lock:
            if not self._due():
                return False
            self._refreshing = True
        submit(self.refresh)
        return True

    def refresh_now(self) -> None:
        """Fetch on this thread if membership is unknown: only where no acknowledgement is waiting."""
        with self._lock:
            # Not waiting for a fetch already running: it may sit queued behind this very thread.
            if self._known() is not None or not self._due(running_too=True):
                return
        self.refresh()

    def refresh(self) -> None:
        """Fetch the group's members; on failure keep what is known (it ages out after TRUST_FOR)."""
        group = self._group
        started = self._monotonic()
        try:
            if group is not None:
                members = frozenset(self._fetch(group))
                with self._lock:
                    self._members, self._fetched_at, self._failed = members, started, False
        except (ChatError, IncidentError) as exc:
            log.warning("admin group not refreshed (%s); using what was known", type(exc).__name__)
            with self._lock:
                self._failed = True
        finally:
            with self._lock:
                self._attempted_at = max(started, self._attempted_at or started)
                self._refreshing = False

    def _known(self) -> frozenset[str] | None:
        if self._members is None or self._monotonic() - self._fetched_at > TRUST_FOR:
            return None
        return self._members

    def _due(self, *, running_too: bool = False) -> bool:
        if self._group is None or (self._refreshing and not running_too):
            return False
        if self._attempted_at is None:
            return True
        wait = RETRY_AFTER if self._failed else REFRESH_EVERY
        return self._monotonic() - self._attempted_at >= wait
