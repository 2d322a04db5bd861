"""The declare form's submission: validated, then handed to the acknowledgement pipeline."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack

from bot.listeners.inputs import clean
from bot.ops.config import LEVELS
from bot.pipeline.acknowledge import FormInvalid, Intake, Surface, acknowledge
from bot.pipeline.dedup import interaction_key
from bot.pipeline.runtime import Runtime
from bot.slack.ids import BlockId
from bot.slack.modals import read_declare_submission
from commands.errors import UsageError
from commands.feature import Ask
from commands.impact import parse_moment
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
        config = rt.config
        # With the priority matrix the severity may be left for impact x urgency (or the default) to decide.
        may_leave = not form.severity and config.priority.configured()
        if form.severity not in config.severity_names() and not may_leave:
            errors[BlockId.SEVERITY] = "Choose one of the listed severities."
        if form.incident_type and form.incident_type not in config.types:
            errors[BlockId.INCIDENT_TYPE] = f"Choose one of: {', '.join(config.types)}."[:150]
        unknown = [name for name in form.services if name not in config.services]
        if unknown:
            errors[BlockId.SERVICES] = f"Unknown services {', '.join(unknown)}: choose listed ones."[:150]
        for block, level in ((BlockId.IMPACT, form.impact), (BlockId.URGENCY, form.urgency)):
            if level and level not in LEVELS:
                errors[block] = f"Choose one of: {', '.join(LEVELS)}."
        moments = {}
        for block, text in ((BlockId.IMPACT_STARTED, form.impact_started), (BlockId.DETECTED, form.detected)):
            try:
                moments[block] = parse_moment(text, rt.clock.now(), config.zone) if text else None
            except UsageError as exc:
                errors[block] = exc.message.replace("`", "")[:150]
        started, detected = moments.get(BlockId.IMPACT_STARTED), moments.get(BlockId.DETECTED)
        if started is not None and detected is not None and started > detected:
            errors[BlockId.IMPACT_STARTED] = "Impact cannot start after it was detected."
        if errors:
            raise FormInvalid(errors)
        return Declare(
            title=form.title,
            severity=form.severity or None,
            private=form.private,
            description=form.description,
            incident_type=form.incident_type or None,
            services=tuple(dict.fromkeys(form.services)),
            drill=form.drill,
            impact=form.impact or None,
            urgency=form.urgency or None,
            impact_started_at=started,
            detected_at=detected,
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
