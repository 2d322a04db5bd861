"""Modal submissions: validate while acknowledging, then act on a worker."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack

from bot.actions import Caller, declare
from bot.errors import reporting
from bot.ids import BlockId
from bot.modals import read_declare_submission
from bot.runtime import Runtime
from commands.parsing import MAX_TITLE, Declare


def handle_declare_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
) -> None:
    rt: Runtime = context["runtime"]
    form = read_declare_submission(view)
    errors: dict[str, str] = {}
    if not form.title:
        errors[BlockId.TITLE] = "An incident needs a title."
    elif len(form.title) > MAX_TITLE:
        errors[BlockId.TITLE] = f"Keep the title under {MAX_TITLE} characters."
    if form.severity not in rt.config.severity_names():
        errors[BlockId.SEVERITY] = "Choose one of the listed severities."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    user_id = body["user"]["id"]

    def reply(text: str) -> None:
        # A modal has no response_url: answer in a direct message.
        rt.chat.tell(user_id, text)

    caller = Caller(user_id=user_id, channel_id=form.origin.channel_id, reply=reply)
    cmd = Declare(title=form.title, severity=form.severity, private=form.private)

    def work() -> None:
        with reporting(reply, "declare (modal)"):
            declare(rt, cmd, caller, description=form.description)

    rt.submit(work)
