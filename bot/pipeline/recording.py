"""Commit a command's change before acknowledging it, within the record budget, as declares do.

Only commands that need nothing from Slack before their commit come here (see `record_first`). The
acknowledgement is sent once the change is in the database, so a process killed after it loses
nothing: the change and its durable job are there for the restarted process. The reply still comes
after the Slack work, as before; a database slower than the budget gets a "taking longer" answer and
the reply follows once the commit ends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from slack_bolt import Ack

from bot.pipeline.actions import Caller, Recorded
from bot.pipeline.handoff import Handoff as Handover  # TODO(lead): use Handoff in the rewrite
from bot.pipeline.replies import failure_message, reporting
from bot.pipeline.runtime import Runtime
from commands.errors import RepeatedDelivery

SLOW = (
    ":hourglass: Recording this is taking longer than usual. I will confirm here as soon as it is "
    "recorded; until then, treat it as not done."
)


@dataclass(frozen=True)
class Commit:
    """How a command's commit stood when its acknowledgement was due."""

    in_time: bool
    result: Recorded | Exception | None  # None while not in time


def commit_within_budget(rt: Runtime, caller: Caller, action: str, record: Callable[[], Recorded]) -> Commit:
    """Commit on the records pool and wait at most the record budget; a late commit carries on by itself."""
    handover: Handover[Recorded] = Handover()

    def commit() -> None:
        result: Recorded | Exception
        try:
            result = record()
        except Exception as exc:  # handed to whoever answers the person
            result = exc
        if handover.finish(result):
            # The listener has answered "taking longer": carry on from here, before this task ends, so
            # Runtime.drain never sees a quiet gap.
            rt.submit(carry_on, caller, action, result)

    rt.record_change(commit)
    in_time, result = handover.wait(rt.record_budget)
    return Commit(in_time, result)


def record_then_ack(
    rt: Runtime, ack: Ack, caller: Caller, action: str, record: Callable[[], Recorded]
) -> None:
    """A slash command: commit, acknowledge (empty when in time), then carry on on the worker pool."""
    commit = commit_within_budget(rt, caller, action, record)
    if not commit.in_time:
        ack(response_type="ephemeral", text=SLOW)  # the late commit confirms by itself
        return
    ack()
    carry_on_after_ack(rt, caller, action, commit)


def carry_on_after_ack(rt: Runtime, caller: Caller, action: str, commit: Commit) -> None:
    """After an ack that showed nothing (a form closing, a button): the 'taking longer' note, or the rest."""
    if not commit.in_time:
        rt.submit(caller.reply, SLOW)
    elif commit.result is not None:
        rt.submit(carry_on, caller, action, commit.result)


def carry_on(caller: Caller, action: str, result: Recorded | Exception) -> None:
    """The Slack work and the reply of a committed change, or the reason nothing was changed."""
    if isinstance(result, RepeatedDelivery):
        return  # Slack's retry of a form already recorded: done once, said once
    if isinstance(result, Exception):
        caller.reply(failure_message(result, action))
        return
    with reporting(caller.reply, action):
        result.then()
