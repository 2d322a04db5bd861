"""Declare: the incident is recorded before the acknowledgement (bursts share one commit), then its room."""

from __future__ import annotations

from collections.abc import Sequence

from commands.errors import RepeatedDelivery
from commands.feature import Ask, Deps, JobResult, JobState, Recorded, Reply
from commands.incidents import DeclareRequest, Scheduled, declare_incidents
from commands.jobs import FreshJob, JobKind
from commands.limits import RateLimited
from commands.mrkdwn import channel_link, escape
from commands.parsing import Declare


class DeclareFeature:
    """`/incident declare` and the declare form: one incident and the job that provisions its room."""

    name = "declare"
    answers_in_ack = True
    slow = (
        ":hourglass: Recording this declaration is taking longer than usual. I will confirm here as soon as "
        "it is recorded; until then, treat it as not declared."
    )

    def record(self, cmd: Declare, ask: Ask, deps: Deps) -> Recorded:
        [result] = self.record_batch([(cmd, ask)], deps)
        if isinstance(result, Exception):
            raise result
        return result

    def record_batch(self, items: Sequence[tuple[Declare, Ask]], deps: Deps) -> list[Recorded | Exception]:
        requests = [
            DeclareRequest(cmd, ask.user_id, ask.channel_id, cmd.description, ask.delivery_key)
            for cmd, ask in items
        ]
        declared = declare_incidents(
            requests, uow=deps.uow, clock=deps.clock, settings=deps.settings, lease=deps.lease
        )
        results: list[Recorded | Exception] = []
        for (cmd, ask), outcome in zip(items, declared, strict=True):
            if outcome is None:
                results.append(RepeatedDelivery(ask.delivery_key or ""))
            elif isinstance(outcome, RateLimited):
                results.append(outcome)
            else:
                results.append(_recorded(cmd, outcome))
        return results


def _recorded(cmd: Declare, scheduled: Scheduled) -> Recorded:
    ref = scheduled.incident.ref
    # Freshly recorded and claimed by this process: its provisioning runs without reading it back.
    fresh = Scheduled(scheduled.incident, scheduled.job_id, fresh=FreshJob(JobKind.PROVISION, {}, {}))
    return Recorded(
        answer=f":rotating_light: Declared *{ref}*: {escape(cmd.title)}. Opening its war room…",
        scheduled=fresh,
        reply=_reply(ref, cmd.title),
    )


def _reply(ref: str, title: str) -> Reply:
    def reply(result: JobResult) -> str | None:
        if result.state is JobState.DONE:
            room = channel_link(result.channel_id)
            return f":rotating_light: Declared *{ref}*: {escape(title)}. War room: {room}"
        if result.state is JobState.GAVE_UP:
            return None  # the declarer was told what Slack refused and how to fix it
        if result.state is JobState.QUEUED:
            return (
                f":hourglass: *{ref}* is recorded and its war room is on its way; "
                "you will be invited as soon as it exists."
            )
        return (
            f":hourglass: *{ref}* is recorded. Slack is slow to set up its war room; "
            "I will keep trying and invite you as soon as it exists."
        )

    return reply


DECLARE = DeclareFeature()
