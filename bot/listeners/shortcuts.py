"""Shortcuts: the global "Declare incident" opens the same modal as `/incident declare`."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack

from bot.pipeline.dedup import first_delivery, interaction_key
from bot.pipeline.runtime import Runtime
from bot.slack.modals import declare_modal
from commands.errors import ChatError


def open_declare_modal(
    rt: Runtime, trigger_id: str, channel_id: str | None, user_id: str, delivery: str | None = None
) -> None:
    """Open the declaration form; if Slack refuses the trigger, say so to the person who asked."""
    if not first_delivery(rt.uow, rt.clock, delivery):
        return
    view = declare_modal(rt.config, channel_id)
    try:
        rt.chat.open_view(trigger_id, view.to_dict())
    except ChatError:
        if channel_id:
            rt.chat.notify(
                channel_id,
                user_id,
                "I could not open the form in time. Please try again, or type "
                "`/incident declare [severity] <title>`.",
            )


def handle_declare_shortcut(ack: Ack, shortcut: dict[str, Any], context: dict[str, Any]) -> None:
    rt: Runtime = context["runtime"]
    ack()
    trigger = str(shortcut.get("trigger_id") or "")
    user = str((shortcut.get("user") or {}).get("id") or "")
    rt.open_form(open_declare_modal, rt, trigger, None, user, interaction_key(shortcut))
