"""Charts shared in Slack (`/incident stats`, the weekly digest): durable, resumable, never uploaded twice.

A share is a row (store/chart_shares.py) saying which period's charts go to which channel. The tick claims
due shares with one conditional UPDATE (a lease, like Slack jobs), renders each chart from the same SQL
figures as `incidentbot report`, and records each uploaded file's id as it lands; a retry skips what is
recorded and first looks in the channel for a file that landed without being recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from commands.errors import ChatError, ChatRefused
from commands.insights import Insights, InsightsReader, TargetSettings, build_query
from commands.jobs import MAX_ATTEMPTS, backoff
from commands.ports import Chat, Clock, Message

log = logging.getLogger(__name__)

STATS = "stats"
DIGEST = "digest"
DIGEST_EVENT = "incident_digest"
STATS_EVENT = "incident_stats"
# Slack shows a shared file in the channel seconds after the upload completes: a retry sooner than this
# might not see a file that did land, and upload it again.
MIN_RETRY = timedelta(seconds=30)
# The charts of a share, in the order they are uploaded; a name is part of its file's name.
CHARTS = ("incidents-per-week", "time-to-resolve", "within-target")


@dataclass(frozen=True)
class ChartShare:
    """One share: the period's charts for one channel, and what of it has landed in Slack."""

    id: int
    kind: str  # STATS or DIGEST
    channel_id: str
    requested_by: str | None
    since: datetime
    until: datetime
    asked_at: datetime  # the figures' clock (overdue action items), and where a retry looks from
    attempts: int
    files: dict[str, str] = field(default_factory=dict)  # chart name -> Slack file id, once uploaded
    posted_ts: str | None = None  # the digest's message, once posted


@dataclass(frozen=True)
class NewShare:
    """A share to record: its kind, channel, who asked and the period."""

    kind: str
    channel_id: str
    requested_by: str | None
    since: datetime
    until: datetime
    asked_at: datetime


class ChartShareStore(Protocol):
    """Shares and the digest's schedule; each method is one transaction."""

    def add(self, share: NewShare) -> int:
        """Record a share due now; its id."""
        ...

    def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[ChartShare]:
        """Claim due shares nobody holds (one conditional UPDATE each), counting the attempt."""
        ...

    def record_file(self, share_id: int, chart: str, file_id: str) -> None: ...

    def record_post(self, share_id: int, ts: str) -> None: ...

    def finish(self, share_id: int, now: datetime, error: str | None = None) -> None: ...

    def retry_at(self, share_id: int, due_at: datetime) -> None:
        """Release the claim; the share is due again at `due_at`."""
        ...

    def digest_due(self, name: str) -> tuple[str, datetime] | None:
        """The schedule text and next due time stored for a digest, if any."""
        ...

    def schedule_digest(self, name: str, schedule: str, next_due: datetime) -> None:
        """Set the digest's schedule (a changed `digest_at` moves it); a concurrent first insert is fine."""
        ...

    def claim_digest(self, name: str, seen: datetime, next_due: datetime, share: NewShare) -> int | None:
        """Move the digest from `seen` to `next_due` and record its share, in one transaction; None when
        another replica moved it first."""
        ...


class ChartRenderer(Protocol):
    """Draws the charts as PNG bytes (matplotlib, outside the domain)."""

    def render(self, chart: str, insights: Insights) -> bytes: ...


@dataclass(frozen=True)
class Reports:
    """What the figures across incidents need: the SQL figures and the shares' store."""

    reader: InsightsReader
    shares: ChartShareStore


class ShareSettings(TargetSettings, Protocol):
    """The config a share reads: the targets and zone of the figures."""


@dataclass(frozen=True)
class ShareContext:
    """Everything running a share touches."""

    reports: Reports
    charts: ChartRenderer
    chat: Chat
    clock: Clock
    settings: ShareSettings
    # The digest's message text and metadata payload, from the figures (commands/stats.py).
    digest_message: Callable[[Insights, ChartShare], Message]
    # A channel's id from its name or id: file uploads take ids only (the digest channel may be a name).
    resolve_channel: Callable[[str], str] = str


def read_figures(reports: Reports, settings: TargetSettings, share: ChartShare | NewShare) -> Insights:
    """The share's figures, exactly as `incidentbot report` computes them for the same period."""
    query = build_query(since=share.since, until=share.until, now=share.asked_at, settings=settings)
    return reports.reader.read(query)


def filename(share: ChartShare, chart: str) -> str:
    """A name unique to the share and chart, so a retry can recognise its own file in the channel."""
    return f"incident-{share.kind}-{share.until:%Y%m%d}-{share.id}-{chart}.png"


TITLES = {
    "incidents-per-week": "Incidents per week, by severity",
    "time-to-resolve": "Time to resolve",
    "within-target": "Share within target",
}


def caption(share: ChartShare, chart: str) -> str:
    """The comment shown with a chart: what it shows, over which days, and who asked (first chart)."""
    days = round((share.until - share.since) / timedelta(days=1))
    text = f"{TITLES[chart]}, last {days} days"
    if share.kind == STATS and share.requested_by and chart == CHARTS[0]:
        return f"Incident stats asked for by <@{share.requested_by}>. {text}"
    if share.kind == DIGEST:
        return f"Weekly incident digest. {text}"
    return text


def run_share(ctx: ShareContext, share: ChartShare) -> None:
    """Upload what is not recorded yet; a Slack outage retries later with backoff, a refusal gives up."""
    store = ctx.reports.shares
    try:
        _upload(ctx, share)
    except ChatRefused as exc:
        store.finish(share.id, ctx.clock.now(), f"{exc.method}: {exc.code}")
        log.warning("chart share %d gave up: %s %s", share.id, exc.method, exc.code)
        _tell_requester(ctx, share, exc)
        return
    except ChatError as exc:
        if share.attempts >= MAX_ATTEMPTS:
            store.finish(share.id, ctx.clock.now(), f"{exc.method}: {exc.code}")
            return
        store.retry_at(share.id, ctx.clock.now() + max(backoff(share.attempts), MIN_RETRY))
        log.info("chart share %d: Slack failed (%s %s); retrying", share.id, exc.method, exc.code)
        return
    store.finish(share.id, ctx.clock.now())


def _upload(ctx: ShareContext, share: ChartShare) -> None:
    store = ctx.reports.shares
    recovering = share.attempts > 1
    share = replace(share, channel_id=ctx.resolve_channel(share.channel_id))
    insights = read_figures(ctx.reports, ctx.settings, share)
    for chart in CHARTS:
        if chart in share.files:
            continue
        content = ctx.charts.render(chart, insights)
        name = filename(share, chart)
        found = (
            ctx.chat.find_file(share.channel_id, name, len(content), share.asked_at) if recovering else None
        )
        file = found or ctx.chat.upload_file(
            share.channel_id, name, content, TITLES[chart], Message(text=caption(share, chart), event_type="")
        )
        store.record_file(share.id, chart, file.file_id)
    if share.kind == DIGEST and share.posted_ts is None:
        # Slack cannot put metadata on a file share: the figures follow as a message other tools can read.
        message = ctx.digest_message(insights, share)
        key = message.event_payload.get("key")
        ts = (
            ctx.chat.find_post(share.channel_id, DIGEST_EVENT, 0, share.asked_at, key) if recovering else None
        )
        store.record_post(share.id, ts or ctx.chat.post(share.channel_id, message).ts)


def _tell_requester(ctx: ShareContext, share: ChartShare, exc: ChatRefused) -> None:
    """Whoever asked for the charts hears that they could not be shared, and why (no user text)."""
    if share.requested_by is None:
        return
    text = f":warning: I could not share the incident charts in <#{share.channel_id}>: {exc.advice}"
    try:
        ctx.chat.notify(share.channel_id, share.requested_by, text)
    except ChatError:
        try:
            ctx.chat.direct_message(share.requested_by, Message(text=text, event_type=STATS_EVENT))
        except ChatError as again:
            log.warning("could not tell the requester of chart share %d (%s)", share.id, again.code)


def digest_payload(insights: Insights, share: ChartShare) -> dict[str, Any]:
    """The digest's metadata: flat numbers and strings (Slack refuses nulls), and the retry's key."""
    return {
        "incident_id": 0,  # no one incident; find_post matches on it, so it is always there
        "key": f"digest:{share.id}",
        "since": share.since.isoformat(),
        "until": share.until.isoformat(),
        "incidents": insights.incidents,
        "drills": insights.drills,
        "duplicates": insights.duplicates,
        "still_open": insights.still_open,
    }
