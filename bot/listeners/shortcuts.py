"""Shortcuts: the global "Declare incident" opens the same modal as `/incident declare`."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack

from bot.modals import declare_modal
from bot.runtime import Runtime
from commands.errors import ChatUnavailable

log = logging.getLogger(__name__)


def open_declare_modal(rt: Runtime, trigger_id: str, channel_id: str | None, user_id: str) -> None:
    """Open the declaration form; if Slack refuses the trigger, say so to the person who asked."""
    view = declare_modal(rt.config, channel_id)
    try:
        rt.chat.open_view(trigger_id, view.to_dict())
    except ChatUnavailable as exc:
        log.warning("could not open the declare modal (%s)", exc)
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
    rt.submit(open_declare_modal, rt, shortcut["trigger_id"], None, shortcut["user"]["id"])
