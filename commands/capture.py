"""Messages marked with a reaction: recorded as owed work before Slack hears back, then read from Slack.

A reaction event is answered only once its capture job is committed, so a process killed right after
answering loses nothing (Slack does not send an answered event again): the job fetches the message's
text and link and records the pin or action item once, keyed by the job. Captures run independently of
each other; a pin whose reaction is gone by the time its message is read is not recorded, so a pin and
its quick removal end with the message off the timeline whichever runs first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta

from commands.action import add_action_item
from commands.errors import NotInWarRoom, RepeatedDelivery
from commands.feature import SLOW, Ask, Deps, Recorded
from commands.jobs import JobKind, Plan, StepContext, StepOutcome, new_job
from commands.parsing import AddActionItem, AddToTimeline
from commands.ports import Clock, UnitOfWorkFactory
from commands.timeline import PinnedMessage, pin_message, unpin_message


@dataclass(frozen=True)
class Marked:
    """A configured reaction on a war-room message: what to do with it, where, and who reacted."""

    action: str  # "pin" or "action"
    emoji: str
    channel: str
    ts: str
    user: str
    removed: bool


def record_reaction(
    marked: Marked, *, uow: UnitOfWorkFactory, clock: Clock, lease: timedelta, delivery: str | None
) -> int | None:
    """Record the capture job (and the delivery, so Slack's retries do nothing); None when not ours."""
    with uow() as tx:
        incident = tx.incidents.get_by_channel(marked.channel)
        if incident is None:
            return None
        now = clock.now()
        if delivery is not None and not tx.deliveries.first_time(delivery, now):
            return None
        job = tx.jobs.add(new_job(JobKind.CAPTURE, incident.id, now, lease, asdict(marked)))
        tx.commit()
        return job.id


def capture_plans(uow: UnitOfWorkFactory, clock: Clock, clean: Callable[[str], str]) -> dict[str, Plan]:
    """The capture job: one step that reads the message from Slack and records it once."""

    def capture(ctx: StepContext) -> StepOutcome:
        marked = Marked(**ctx.payload)
        once = f"job:{ctx.job_id}"  # a retried or resumed job records nothing twice
        if marked.removed:
            if marked.action == "pin":
                unpin_message(
                    channel_id=marked.channel,
                    ts=marked.ts,
                    uow=uow,
                    clock=clock,
                    settings=ctx.settings,
                    delivery=once,
                )
            return StepOutcome()
        found = ctx.chat.message(marked.channel, marked.ts)
        if found is None:
            return StepOutcome()  # deleted before we could read it
        if marked.user not in found.reactions.get(marked.emoji, []):
            # Taken back already (its removal may have been handled first): the message stays off.
            return StepOutcome()
        author, text = found.author, found.text
        if marked.action == "pin":
            message = PinnedMessage(
                channel_id=marked.channel,
                ts=marked.ts,
                author=author,
                text=clean(text),
                permalink=ctx.chat.permalink(marked.channel, marked.ts),
            )
            pin_message(
                message, pinned_by=marked.user, uow=uow, clock=clock, settings=ctx.settings, delivery=once
            )
        elif marked.action == "action":
            item = AddActionItem(text=clean(text)[:2000] or "(empty message)")
            add_action_item(
                item,
                user_id=marked.user,
                channel_id=marked.channel,
                uow=uow,
                clock=clock,
                settings=ctx.settings,
                delivery=once,
            )
        return StepOutcome()

    return {JobKind.CAPTURE: [("capture", capture)]}


class ReactionFeature:
    """A configured reaction on a war-room message: its capture job is committed before Slack hears back."""

    name = "reaction"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: Marked, ask: Ask, deps: Deps) -> Recorded:
        job_id = record_reaction(
            cmd, uow=deps.uow, clock=deps.clock, lease=deps.lease, delivery=ask.delivery_key
        )
        return Recorded(followups=(job_id,) if job_id is not None else ())


class AddToTimelineFeature:
    """The "Add to incident timeline" message shortcut, in a war room."""

    name = "add to timeline"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: AddToTimeline, ask: Ask, deps: Deps) -> Recorded:
        if not cmd.ts or not _is_war_room(ask.room, deps):
            raise NotInWarRoom("Messages can be added to an incident's timeline only from its war room.")
        message = PinnedMessage(
            channel_id=ask.room,
            ts=cmd.ts,
            author=cmd.author,
            text=cmd.text,
            permalink=deps.directory.permalink(ask.room, cmd.ts),
        )
        try:
            added = pin_message(
                message,
                pinned_by=ask.user_id,
                uow=deps.uow,
                clock=deps.clock,
                settings=deps.settings,
                delivery=ask.delivery_key,
            )
        except NotInWarRoom:
            raise NotInWarRoom(
                "Messages can be added to an incident's timeline only from its war room."
            ) from None
        if added is None:
            raise RepeatedDelivery(ask.delivery_key or "")
        return Recorded(
            answer=":pushpin: Added to the timeline." if added else "That message is already on the timeline."
        )


def _is_war_room(channel_id: str, deps: Deps) -> bool:
    """Checked before asking Slack for the message's link, so a shortcut elsewhere costs no Web API call."""
    with deps.uow() as tx:
        return tx.incidents.get_by_channel(channel_id) is not None


REACTION = ReactionFeature()
ADD_TO_TIMELINE = AddToTimelineFeature()
