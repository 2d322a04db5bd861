"""Modal submissions: validate (and commit a declaration) while acknowledging, then act on a worker."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack

from bot.listeners.inputs import clean
from bot.pipeline.actions import Caller
from bot.pipeline.declaring import Declaration
from bot.pipeline.dedup import interaction_key
from bot.pipeline.runtime import Runtime
from bot.slack.ids import BlockId
from bot.slack.modals import read_declare_submission
from commands.parsing import MAX_TITLE, Declare

log = logging.getLogger(__name__)


def handle_declare_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
) -> None:
    rt: Runtime = context["runtime"]
    form = read_declare_submission(view)
    form = form.model_copy(update={"title": clean(form.title), "description": clean(form.description)})
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
    user_id = str((body.get("user") or {}).get("id") or "")
    if not user_id:
        ack()
        log.warning("declare form submitted without a user; ignored")
        return

    def reply(text: str) -> None:
        # A modal has no response_url: answer in a direct message.
        rt.chat.tell(user_id, text)

    caller = Caller(user_id=user_id, channel_id=form.origin.channel_id, reply=reply)
    cmd = Declare(title=form.title, severity=form.severity, private=form.private)
    # Committed (with the delivery, so a retry is recognised) before the form closes.
    declaration = Declaration(rt, cmd, caller)
    outcome = declaration.record(description=form.description, delivery_key=interaction_key(body))
    if outcome.failure is not None:
        # Keep the form open with what they typed, and say why on it.
        ack(response_action="errors", errors={BlockId.TITLE: outcome.failure.removeprefix(":warning: ")})
        return
    ack()
    if outcome.pending:
        rt.submit(reply, outcome.acknowledgement(cmd.title))
    declaration.carry_on(outcome)
