"""Commit a command's change before acknowledging it, within the record budget, as declares do.

Only commands that need nothing from Slack before their commit come here (see `record_first`). The
acknowledgement is sent once the change is in the database, so a process killed after it loses
nothing: the change and its durable job are there for the restarted process. The reply still comes
after the Slack work, as before; a database slower than the budget gets a "taking longer" answer and
the reply follows once the commit ends.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import Ack

from bot.actions import Caller, Recorded
from bot.errors import failure_message, reporting
from bot.handover import Handover
from bot.runtime import Runtime

SLOW = (
    ":hourglass: Recording this is taking longer than usual. I will confirm here as soon as it is "
    "recorded; until then, treat it as not done."
)


def record_then_ack(
    rt: Runtime, ack: Ack, caller: Caller, action: str, record: Callable[[], Recorded]
) -> None:
    """Commit on the records pool, acknowledge (empty when in time), then carry on on the worker pool."""
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
            rt.submit(_carry_on, caller, action, result)

    rt.record_change(commit)
    in_time, result = handover.wait(rt.record_budget)
    if not in_time:
        ack(response_type="ephemeral", text=SLOW)
        return
    ack()
    assert result is not None
    rt.submit(_carry_on, caller, action, result)


def _carry_on(caller: Caller, action: str, result: Recorded | Exception) -> None:
    """The Slack work and the reply of a committed change, or the reason nothing was changed."""
    if isinstance(result, Exception):
        caller.reply(failure_message(result, action))
        return
    with reporting(caller.reply, action):
        result.then()
