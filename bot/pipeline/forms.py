"""Open the form a request asked for, right after its acknowledgement: views.open needs its trigger in 3 s."""

from __future__ import annotations

from slack_sdk.models.views import View

from bot.pipeline.replies import Reply, reporting
from bot.pipeline.runtime import Runtime
from bot.slack.modals import action_item_modal, assign_modal, declare_modal, edit_modal, update_modal
from commands.errors import ChatError
from commands.feature import Ask, FormRequest

COULD_NOT_OPEN = (
    "I could not open the form in time. Please try again, or type `/incident declare [severity] <title>`."
)


def open_form(rt: Runtime, trigger_id: str, ask: Ask, reply: Reply, form: FormRequest) -> None:
    """Open it; a declare form Slack refuses is explained in the channel it was asked from."""
    if form.kind == "declare":
        channel = form.prefill.get("channel_id")
        try:
            rt.chat.open_view(trigger_id, declare_modal(rt.config, channel).to_dict())
        except ChatError:
            if channel:
                rt.chat.notify(channel, ask.user_id, COULD_NOT_OPEN)
        return
    with reporting(reply, f"open {form.kind} form"):
        rt.chat.open_view(trigger_id, _room_form(rt, ask, form).to_dict())


def _room_form(rt: Runtime, ask: Ask, form: FormRequest) -> View:
    if form.kind == "update":
        return update_modal(rt.config, ask.room, form.prefill["message"], form.prefill["status"])
    if form.kind == "edit":
        return edit_modal(rt.config, ask.room, form.prefill)
    if form.kind == "action":
        return action_item_modal(ask.room, str(form.prefill.get("text") or ""))
    return assign_modal(rt.config, ask.room)
