"""Declare an incident: commit it before the acknowledgement, then provision its war room on a worker.

An acknowledged declaration is already in the database, so a process killed after the ack loses nothing:
the restarted process's tick resumes the provisioning job. The commit gets a time budget, so a slow
database still gets the person an answer inside Slack's 3 s; past the budget the answer says the
declaration is not confirmed yet, and the confirmation follows once the commit lands.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.pipeline.actions import Caller
from bot.pipeline.handoff import Handoff as Handover  # TODO(lead): use Handoff in the rewrite
from bot.pipeline.replies import failure_message, reporting
from bot.pipeline.runtime import JobState, Runtime
from bot.render.mrkdwn import channel_link, escape
from commands.incidents import DeclareRequest, Scheduled
from commands.parsing import Declare

ACTION = "declare"


@dataclass(frozen=True)
class Outcome:
    """What became of a declaration by the time it has to be acknowledged."""

    recorded: Scheduled | None = None  # committed within the budget
    failure: str | None = None  # nothing was recorded; the sentence for the declarer
    pending: bool = False  # the database is slow: still recording, the confirmation comes later
    repeat: bool = False  # Slack delivered this form before, and it was recorded then

    def acknowledgement(self, title: str) -> str:
        """The ephemeral text a slash command is acknowledged with."""
        if self.recorded is not None:
            ref = self.recorded.incident.ref
            return f":rotating_light: Declared *{ref}*: {escape(title)}. Opening its war room…"
        if self.failure is not None:
            return self.failure
        return (
            f":hourglass: Recording *{escape(title)}* is taking longer than usual. I will confirm here as "
            "soon as it is recorded; until then, treat it as not declared."
        )


class Declaration:
    """One declaration, from its queueing for the group commit to the start of its provisioning."""

    def __init__(self, rt: Runtime, cmd: Declare, caller: Caller) -> None:
        self.rt, self.cmd, self.caller = rt, cmd, caller
        self._handover: Handover[Scheduled | None] = Handover()

    def record(self, *, description: str = "", delivery_key: str | None = None) -> Outcome:
        """Queue the incident for the next group commit and wait for it, at most the runtime's budget."""
        caller = self.caller
        request = DeclareRequest(self.cmd, caller.user_id, caller.channel_id, description, delivery_key)
        self.rt.record(request, self._recorded)
        in_time, result = self._handover.wait(self.rt.record_budget)
        if not in_time:
            return Outcome(pending=True)
        if result is None:
            return Outcome(repeat=True)
        if isinstance(result, Exception):
            return Outcome(failure=failure_message(result, ACTION))
        return Outcome(recorded=result)

    def carry_on(self, outcome: Outcome) -> None:
        """After the ack: provision what was recorded in time (the late case provisions itself)."""
        if outcome.recorded is not None:
            self.rt.submit(provision, self.rt, self.cmd, self.caller, outcome.recorded)

    def _recorded(self, result: Scheduled | None | Exception) -> None:
        """Called on the recording thread once the commit is over (None: a repeated form delivery)."""
        late = self._handover.finish(result)
        if not late or result is None:
            return
        if isinstance(result, Exception):
            # Replies are Web API calls: never on the recording thread, which the next batch waits for.
            self.rt.submit(self.caller.reply, failure_message(result, ACTION))
        else:
            # Submitted before the recorder marks this item done, so Runtime.drain never sees a quiet gap.
            self.rt.submit(provision, self.rt, self.cmd, self.caller, result)


def provision(rt: Runtime, cmd: Declare, caller: Caller, scheduled: Scheduled) -> None:
    """Provision the recorded incident's room now and tell the declarer where it is."""
    with reporting(caller.reply, ACTION):
        ref = scheduled.incident.ref
        channel = rt.run_provision(scheduled)
        state = JobState.DONE if channel is not None else rt.job_state(scheduled.job_id, False)
        if state is JobState.DONE:
            room = channel_link(channel)
            caller.reply(f":rotating_light: Declared *{ref}*: {escape(cmd.title)}. War room: {room}")
        elif state is JobState.GAVE_UP:
            return  # the declarer was told what Slack refused and how to fix it
        elif state is JobState.QUEUED:
            caller.reply(
                f":hourglass: *{ref}* is recorded and its war room is on its way; "
                "you will be invited as soon as it exists."
            )
        else:
            caller.reply(
                f":hourglass: *{ref}* is recorded. Slack is slow to set up its war room; "
                "I will keep trying and invite you as soon as it exists."
            )
