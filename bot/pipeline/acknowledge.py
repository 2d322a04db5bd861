"""The one acknowledgement pipeline: parse, authorize and record within a budget, acknowledge, hand over.

Every Bolt listener (command, button, form, shortcut, event) builds an `Intake` and calls `acknowledge`.
What a person is told was done is in the database before Slack hears back, so a process killed after the
acknowledgement loses nothing; the Slack side effects run afterwards as durable jobs. The commit gets the
record budget: past it the person is told it is taking longer, and the confirmation follows on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from slack_bolt import Ack

from bot.pipeline.forms import open_form
from bot.pipeline.handoff import Handoff
from bot.pipeline.replies import DATABASE_ERRORS, Reply, failure_message, reporting
from bot.pipeline.runtime import Runtime
from commands.errors import RepeatedDelivery, UsageError
from commands.feature import Ask, BatchFeature, Feature, JobResult, Recorded
from commands.mrkdwn import escape
from commands.registry import feature_for

log = logging.getLogger(__name__)


class Surface(StrEnum):
    """Where a request came from, which decides how it can be acknowledged and answered."""

    COMMAND = "command"  # the ack may carry text
    FORM = "form"  # the ack may keep the form open with errors on its fields
    BUTTON = "button"  # buttons and shortcuts: an empty ack, answers by response_url or DM
    EVENT = "event"  # Events API: no answer; a database that is down gets a 500 so Slack retries


class FormInvalid(Exception):
    """A form's fields are wrong: it stays open with a message on each."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("invalid form")
        self.errors = errors


class DatabaseDownRetryLater(Exception):
    """Raised before answering an event the database cannot take now: Bolt answers 500, Slack redelivers."""


@dataclass(frozen=True)
class Intake:
    """A request as every listener kind hands it over: who, where, how to answer, and how to parse it."""

    surface: Surface
    ask: Ask
    reply: Reply
    parse: Callable[[], object]  # the command; raises UsageError, or FormInvalid on a form
    trigger_id: str = ""  # a click's or command's trigger, for a form opened after the ack
    error_block: str | None = None  # FORM: the block a refusal is shown on


@dataclass(frozen=True)
class _Commit:
    in_time: bool
    result: Recorded | Exception | None  # None while not in time


def acknowledge(rt: Runtime, ack: Ack, intake: Intake) -> None:
    """Parse, record (authorization happens in the record's transaction), acknowledge, then hand over."""
    try:
        cmd = intake.parse()
    except FormInvalid as exc:
        ack(response_action="errors", errors=exc.errors)
        return
    except UsageError as exc:
        _refuse(rt, ack, intake, escape(exc.message))
        return
    feature = feature_for(cmd)
    if intake.surface is Surface.EVENT:
        _record_event(rt, intake, feature, cmd)
        return
    commit = _record(rt, intake, feature, cmd)
    if not commit.in_time:
        if intake.surface is Surface.COMMAND:
            ack(response_type="ephemeral", text=feature.slow)
        else:
            ack()
            rt.submit(intake.reply, feature.slow)
        return  # the late commit carries on by itself
    result = commit.result
    if isinstance(result, RepeatedDelivery):
        ack()  # Slack's retry of something already recorded: done once, said once
        return
    if isinstance(result, Exception):
        _refuse(rt, ack, intake, failure_message(result, feature.name), in_ack=feature.answers_in_ack)
        return
    assert result is not None
    if intake.surface is Surface.COMMAND and feature.answers_in_ack and result.answer:
        ack(response_type="ephemeral", text=result.answer)
        _carry_on(rt, intake, feature, result, answered=True)
        return
    ack()
    _carry_on(rt, intake, feature, result, answered=False)


def _refuse(rt: Runtime, ack: Ack, intake: Intake, text: str, *, in_ack: bool = True) -> None:
    """Nothing was recorded: say why where the person is looking, changing nothing."""
    if intake.surface is Surface.COMMAND and in_ack:
        ack(response_type="ephemeral", text=text)
    elif intake.surface is Surface.FORM and intake.error_block:
        ack(response_action="errors", errors={intake.error_block: text.removeprefix(":warning: ")})
    else:
        ack()
        rt.submit(intake.reply, text)


def _record(rt: Runtime, intake: Intake, feature: Feature[Any], cmd: object) -> _Commit:
    """Record on the recording threads and wait at most the budget; a late commit carries on by itself."""
    handoff: Handoff[Recorded] = Handoff()

    def done(result: Recorded | Exception) -> None:
        if handoff.finish(result):
            # The person was told it is taking longer: carry on from here, before this task ends, so
            # Runtime.drain never sees a quiet gap.
            _late(rt, intake, feature, result)

    if hasattr(feature, "record_batch"):
        batch: BatchFeature[Any] = feature  # type: ignore[assignment]
        rt.record_in_batch(batch, (cmd, intake.ask), done)
    else:
        rt.record_change(lambda: done(_attempt(rt, feature, cmd, intake.ask)))
    rt.arrivals.settled()
    in_time, result = handoff.wait(rt.record_budget)
    return _Commit(in_time, result)


def _attempt(rt: Runtime, feature: Feature[Any], cmd: object, ask: Ask) -> Recorded | Exception:
    try:
        return feature.record(cmd, ask, rt.deps())
    except Exception as exc:  # handed to whoever answers the person
        return exc


def _late(rt: Runtime, intake: Intake, feature: Feature[Any], result: Recorded | Exception) -> None:
    if isinstance(result, RepeatedDelivery):
        return
    if isinstance(result, Exception):
        rt.submit(intake.reply, failure_message(result, feature.name))
        return
    _carry_on(rt, intake, feature, result, answered=False)


def _carry_on(
    rt: Runtime, intake: Intake, feature: Feature[Any], recorded: Recorded, *, answered: bool
) -> None:
    """After the ack: open the form, or run the job and reply, or just reply; all off the request thread."""
    if recorded.form is not None:
        rt.open_form(open_form, rt, intake.trigger_id, intake.ask, intake.reply, recorded.form)
        return
    if recorded.scheduled is None and not recorded.followups:
        if recorded.answer and not answered:
            rt.submit(intake.reply, recorded.answer)
        return
    if rt.runs_jobs:
        rt.submit(_run_and_reply, rt, intake, feature, recorded)
        return
    # A web replica runs no job (the workers do): a reply that depends on one waits for it by callback,
    # holding no thread meanwhile (a burst's would otherwise wake a hundred as its acks are sent).
    scheduled, reply = recorded.scheduled, recorded.reply
    if scheduled is not None and reply is not None and recorded.wait:
        rt.when_done(scheduled, lambda result: _say_when_done(intake, feature, reply, result))


def _say(intake: Intake, reply: Callable[[JobResult], str | None], result: JobResult) -> None:
    """Say what became of the job, if the feature has words for it."""
    text = reply(result)
    if text:
        intake.reply(text)


def _say_when_done(
    intake: Intake, feature: Feature[Any], reply: Callable[[JobResult], str | None], result: JobResult
) -> None:
    """On a web replica, from the job watch: a failure to reply is reported, as _run_and_reply's are."""
    with reporting(intake.reply, feature.name):
        _say(intake, reply, result)


def _run_and_reply(rt: Runtime, intake: Intake, feature: Feature[Any], recorded: Recorded) -> None:
    """Run the recorded job here, then say only what actually happened."""
    with reporting(intake.reply, feature.name):
        if recorded.scheduled is not None:
            wants_reply = recorded.reply is not None and recorded.wait
            result = rt.run(recorded.scheduled, wait=wants_reply)
            if wants_reply and recorded.reply is not None:
                _say(intake, recorded.reply, result)
        for job_id in recorded.followups:
            rt.run_job(job_id)


def _record_event(rt: Runtime, intake: Intake, feature: Feature[Any], cmd: object) -> None:
    """An event is answered when its listener returns: record first, or make Slack deliver it again."""
    try:
        recorded = feature.record(cmd, intake.ask, rt.deps())
    except RepeatedDelivery:
        return
    except DATABASE_ERRORS as exc:
        log.warning(
            "%s event: database unavailable (%s); asking Slack to retry", feature.name, type(exc).__name__
        )
        # `from None`: Bolt logs this error, and the database error's text would carry the SQL.
        raise DatabaseDownRetryLater("database unavailable; Slack will deliver the event again") from None
    _carry_on(rt, intake, feature, recorded, answered=True)
