"""The tick's part for charts: claim the weekly digest when due, then run the chart shares that are owed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.ops.config import IncidentConfig
from bot.render.chart_renderer import MatplotlibCharts
from bot.slack.chat import SlackChat
from commands import digest
from commands.chart_shares import ChartShare, Reports, ShareContext, run_share
from commands.ports import Clock
from commands.postmortem_owner import OverduePostmortem
from commands.stats import digest_message

log = logging.getLogger(__name__)

# A share renders three charts and makes about ten Slack calls: its claim outlasts a slow Slack, and a
# crashed holder's share is taken over after this long (a retry finds what already landed).
SHARE_LEASE = timedelta(minutes=2)
# Shares started per tick: charts take CPU, and acknowledgements come first.
SHARES_PER_TICK = 4


@dataclass
class ChartWork:
    """Claims digests and chart shares on the tick and runs each on the runtime's worker pool."""

    reports: Reports
    chat: SlackChat
    clock: Clock
    config: IncidentConfig
    # The postmortems the digest lists as overdue, read when it is posted.
    overdue: Callable[[], Sequence[OverduePostmortem]] = tuple

    def tick(self, submit: Callable[..., Any]) -> int:
        """Claim the digest if due, then start the owed shares; how many shares were started."""
        if digest.tick(reports=self.reports, clock=self.clock, settings=self.config) is not None:
            log.info("weekly digest claimed")
        shares = self.reports.shares.claim_due(self.clock.now(), SHARE_LEASE, SHARES_PER_TICK)
        for share in shares:
            submit(self.run, share)
        return len(shares)

    def run(self, share: ChartShare) -> None:
        """Upload the share's charts (and the digest's message) where it goes."""
        severities = self.config.severity_names()
        ctx = ShareContext(
            reports=self.reports,
            charts=MatplotlibCharts(severities),
            chat=self.chat,
            clock=self.clock,
            settings=self.config,
            digest_message=lambda ins, s: digest_message(ins, s, severities, self.overdue()),
            resolve_channel=self.chat.channel_id,
        )
        run_share(ctx, share)
