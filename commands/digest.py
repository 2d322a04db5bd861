"""The weekly digest: the last 7 days' figures and charts in `digest_channel` at `digest_at`, once a week.

One row per digest holds when it is next due. The tick claims it with one conditional UPDATE from the
due time it read to the next slot after now, and records the digest's share in the same transaction, so
any number of replicas post it once; after downtime spanning the slot it is posted once, late, and the
next one is a full slot away (never once per missed week).
"""

from __future__ import annotations

from datetime import timedelta, tzinfo
from typing import Protocol

from commands.chart_shares import DIGEST, NewShare, Reports
from commands.due import WeeklySlot
from commands.ports import Clock

WEEKLY = "weekly"
DIGEST_SPAN = timedelta(days=7)


class DigestSettings(Protocol):
    """Where and when the digest goes; no channel means no digest."""

    digest_channel: str | None
    digest_at: str

    @property
    def zone(self) -> tzinfo: ...

    def digest_slot(self) -> WeeklySlot: ...


def tick(*, reports: Reports, clock: Clock, settings: DigestSettings) -> int | None:
    """Claim the digest when due and record its share; the share's id, or None when nothing was due."""
    channel = settings.digest_channel
    if not channel:
        return None
    now = clock.now()
    slot = settings.digest_slot()
    zone = settings.zone
    store = reports.shares
    stored = store.digest_due(WEEKLY)
    if stored is None or stored[0] != settings.digest_at:
        # First start, or `digest_at` changed: the next slot from now, nothing owed for the past.
        store.schedule_digest(WEEKLY, settings.digest_at, slot.first_after(now, zone))
        return None
    seen = stored[1]
    if seen > now:
        return None
    upcoming = slot.first_after(now, zone)
    # The week up to the latest slot (wall-clock arithmetic in the zone keeps 09:00 at 09:00 across DST):
    # late after downtime, it still covers the most recent full week, once.
    until = upcoming - DIGEST_SPAN
    share = NewShare(
        kind=DIGEST,
        channel_id=channel,
        requested_by=None,
        since=until - DIGEST_SPAN,
        until=until,
        asked_at=now,
    )
    return store.claim_digest(WEEKLY, seen, upcoming, share)
