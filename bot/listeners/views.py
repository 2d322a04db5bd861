"""The declare form's submission: validated, then handed to the acknowledgement pipeline."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack

from bot.listeners.inputs import clean
from bot.pipeline.acknowledge import FormInvalid, Intake, Surface, acknowledge
from bot.pipeline.dedup import interaction_key
from bot.pipeline.runtime import Runtime
from bot.slack.ids import BlockId
from bot.slack.modals import read_declare_submission
from commands.feature import Ask
from commands.parsing import MAX_TITLE, Declare

log = logging.getLogger(__name__)


def handle_declare_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: dict[str, Any]
) -> None:
    rt: Runtime = context["runtime"]
    form = read_declare_submission(view)
    form = form.model_copy(update={"title": clean(form.title), "description": clean(form.description)})
    user_id = str((body.get("user") or {}).get("id") or "")

    def parse() -> Declare:
        errors: dict[str, str] = {}
        if not form.title:
            errors[BlockId.TITLE] = "An incident needs a title."
        elif len(form.title) > MAX_TITLE:
            errors[BlockId.TITLE] = f"Keep the title under {MAX_TITLE} characters."
        if form.severity not in rt.config.severity_names():
            errors[BlockId.SEVERITY] = "Choose one of the listed severities."
        if errors:
            raise FormInvalid(errors)
        return Declare(
            title=form.title, severity=form.severity, private=form.private, description=form.description
        )

    if not user_id:
        ack()
        log.warning("declare form submitted without a user; ignored")
        return

    def reply(text: str) -> None:
        rt.chat.tell(user_id, text)  # a modal has no response_url: answer in a direct message

    intake = Intake(
        surface=Surface.FORM,
        ask=Ask(user_id=user_id, channel_id=form.origin.channel_id, delivery_key=interaction_key(body)),
        reply=reply,
        parse=parse,
        error_block=BlockId.TITLE,
    )
    acknowledge(rt, ack, intake)
