"""One short periodic tick per process; due work lives in the database, never in APScheduler's job store."""

from __future__ import annotations

import logging
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)


def start_ticker(tick: Callable[[], object], interval_seconds: float) -> BackgroundScheduler:
    """Run `tick` every interval; a slow tick is skipped rather than stacked."""
    # APScheduler logs two INFO lines per run ("Running job", "executed successfully"): with a 1 s tick
    # that is about 170,000 lines a day. Its warnings (a run skipped while the last one is busy) still show.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    scheduler = BackgroundScheduler(timezone="UTC")

    def safe_tick() -> None:
        try:
            tick()
        except Exception:  # a failed tick must not kill the scheduler; the next one retries
            log.exception("tick failed")

    scheduler.add_job(
        safe_tick,
        "interval",
        seconds=interval_seconds,
        id="tick",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    scheduler.start()
    return scheduler
