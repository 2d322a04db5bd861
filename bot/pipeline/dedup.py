"""Delivery keys: how a retried Slack event or interaction is recognised (commands record them, once)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


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
