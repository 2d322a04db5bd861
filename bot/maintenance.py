"""Housekeeping the periodic tick runs: forget Slack deliveries too old to be retried."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from commands.ports import Clock
from store.uow import SqlUnitOfWork

log = logging.getLogger(__name__)

# Slack retries a delivery three times within about five minutes; an hour leaves a wide margin.
DELIVERY_RETENTION = timedelta(hours=1)


def expire_deliveries(
    uow: Callable[[], SqlUnitOfWork], clock: Clock, older_than: timedelta = DELIVERY_RETENTION
) -> int:
    """Delete delivery records past the retry window so the table stays small; returns how many."""
    with uow() as tx:
        removed = tx.deliveries.expire(clock.now() - older_than)
        tx.commit()
    if removed:
        log.debug("expired %s processed deliveries", removed)
    return removed
