"""The App Home tab: published when someone opens it, and its *Done* buttons."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack

from bot.listeners.action_items import item_id_of
from bot.listeners.room_forms import button_context
from bot.pipeline.acknowledge import Intake, Surface, acknowledge
from bot.pipeline.dedup import interaction_key
from bot.pipeline.runtime import Runtime
from commands.feature import Ask
from commands.parsing import MarkActionDone


def handle_app_home_opened(ack: Ack, event: dict[str, Any], context: dict[str, Any]) -> None:
    """Acknowledge at once; read and publish the person's Home after the ack, on the worker pool."""
    ack()
    rt: Runtime = context["runtime"]
    user = str(event.get("user") or "")
    # The event also fires for the Messages tab, which shows no view of ours.
    if event.get("tab") == "home" and user and rt.home is not None:
        rt.submit(rt.home.opened, user)


def handle_home_action_done_button(ack: Ack, body: dict[str, Any], context: dict[str, Any]) -> None:
    """*Done* on Home: outside the room, so only the item's owner may (rechecked when recorded).

    A Home click has no response_url: the answer is shown at the top of the re-published Home.
    """
    rt: Runtime = context["runtime"]
    trigger, _channel, user = button_context(body)
    home = rt.home

    def reply(text: str) -> None:
        if home is not None and user:
            home.publish(user, notice=text)

    cmd = MarkActionDone(item_id=item_id_of(body), message_ts=None)
    intake = Intake(
        surface=Surface.BUTTON,
        ask=Ask(user_id=user, channel_id="", delivery_key=interaction_key(body)),
        reply=reply,
        parse=lambda: cmd,
        trigger_id=trigger,
    )
    acknowledge(rt, ack, intake)
