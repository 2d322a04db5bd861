"""Act once per Slack delivery: retried events and interactions are recognised in the database."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from commands.ports import Clock
from store.uow import SqlUnitOfWork

log = logging.getLogger(__name__)


def event_key(body: Mapping[str, Any]) -> str | None:
    """Slack repeats `event_id` on every retry of an Events API delivery."""
    event_id = body.get("event_id")
    return f"event:{event_id}" if event_id else None


def interaction_key(body: Mapping[str, Any]) -> str | None:
    """An interaction has no event id, but its `trigger_id` is minted once per click or submission."""
    trigger = body.get("trigger_id")
    if trigger:
        return f"interaction:{trigger}"
    actions = body.get("actions") or []
    action_ts = (actions[0] or {}).get("action_ts") if actions and isinstance(actions[0], dict) else None
    stamp = action_ts or body.get("action_ts")
    user = (body.get("user") or {}).get("id", "")
    return f"interaction:{user}:{stamp}" if stamp else None


def first_delivery(uow: Callable[[], SqlUnitOfWork], clock: Clock, key: str | None) -> bool:
    """Record the delivery in its own transaction; False when any replica already recorded it.

    The record is committed before the work runs, so a crash in between drops that one delivery rather
    than risk doing it twice; Slack does not retry a delivery it got a 200 for.
    """
    if key is None:
        return True
    with uow() as tx:
        first = tx.deliveries.first_time(key, clock.now())
        tx.commit()
    if not first:
        log.info("ignoring a repeated Slack delivery")
    return first
