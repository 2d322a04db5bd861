"""Slack steps several features share (posting once, announcing, the summary and topic): each idempotent."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace

from commands.errors import ChannelNotFound
from commands.jobs import (
    GiveUp,
    PartialProgress,
    Step,
    StepContext,
    StepOutcome,
)
from commands.ports import Message, PostRef
from commands.text import channel_name

log = logging.getLogger(__name__)


def room(ctx: StepContext) -> str:
    """The incident's war room; later jobs wait for it, so none means setting it up gave up."""
    if not ctx.incident.channel_id:
        raise GiveUp("its war room could not be created")
    return ctx.incident.channel_id


# Names tried for a room before asking a person to look: -2, -3 ... while the name is taken.
MAX_NAME_ATTEMPTS = 10


def room_names(ctx: StepContext) -> list[str]:
    """The names the incident's room may have, in the order tried: drills under `drill_prefix`."""
    inc = ctx.incident
    prefix = ctx.settings.drill_prefix if inc.drill else ctx.settings.channel_prefix
    return [channel_name(prefix, inc.id, inc.title, attempt) for attempt in range(MAX_NAME_ATTEMPTS)]


def set_topic(ctx: StepContext) -> StepOutcome:
    ctx.chat.set_topic(room(ctx), ctx.presenter.topic(ctx.incident))
    return StepOutcome()


def post_once(ctx: StepContext, purpose: str, channel: str, message: Message) -> StepOutcome:
    """Post unless an earlier, unrecorded attempt already did (looked up by metadata only when recovering)."""
    if purpose in ctx.posts:
        return StepOutcome()
    if ctx.recovering:
        key = message.event_payload.get("key")
        ts = ctx.chat.find_post(channel, message.event_type, ctx.incident.id, ctx.incident.declared_at, key)
        if ts is not None:
            return StepOutcome(post=(purpose, PostRef(channel, ts)))
    return StepOutcome(post=(purpose, ctx.chat.post(channel, message)))


def announce_message(
    ctx: StepContext, purpose: str, message: Message, what: str, *, record: bool = True
) -> StepOutcome:
    """Post in the announce channel; a missing channel is told in the room and does not block the room."""
    try:
        outcome = post_once(ctx, purpose, ctx.settings.announce_channel, message)
    except ChannelNotFound:
        # The war room still works; the room (its declarer named) learns why stakeholders heard nothing.
        # A post, not an ephemeral: the declarer may not be in the room yet (the invite runs beside this
        # step), and Slack refuses an ephemeral to a non-member, which would fail the whole job.
        log.warning("announce channel not found; %s not announced", ctx.incident.ref)
        events = [("announce_failed", f"Could not announce the {what}: announce channel not found")]
        if not ctx.incident.channel_id:
            return StepOutcome(events=events)
        notice = ctx.presenter.announce_failed(
            ctx.incident, ctx.settings.announce_channel, what, key=f"{purpose}:failed"
        )
        told = post_once(ctx, f"{purpose}:failed", ctx.incident.channel_id, notice)
        return StepOutcome(post=told.post, events=events)
    events = [("announced", f"Announced the {what} to stakeholders")] if record else []
    return StepOutcome(post=outcome.post, events=events)


def announce_if_public(
    ctx: StepContext, purpose: str, render: Callable[[], Message], what: str, *, record: bool = True
) -> StepOutcome:
    """Tell stakeholders about a change to a public incident; a private one's changes stay in its room."""
    if ctx.incident.private:
        return StepOutcome()
    return announce_message(ctx, purpose, render(), what, record=record)


def refresh_summary(ctx: StepContext) -> StepOutcome:
    """Re-render the pinned summary in place so it never shows a stale status."""
    ref = ctx.posts.get("summary")
    if ref is not None:
        ctx.chat.update(ref.channel, ref.ts, ctx.presenter.summary(ctx.incident))
    return StepOutcome()


def only_if(flag: str, step: Step) -> Step:
    """Run a step only when the payload says what it shows has changed."""

    def conditional(ctx: StepContext) -> StepOutcome:
        return step(ctx) if ctx.payload.get(flag) else StepOutcome()

    return conditional


def direct_message_each(ctx: StepContext, users: Iterable[str], prefix: str, message: Message) -> StepOutcome:
    """DM each person once; a failure part-way records the DMs already sent so the retry skips them.

    Each DM carries its purpose as its metadata key: a retry after a timeout (the DM may have landed)
    looks for it in the person's DM before sending it again.
    """
    sent: list[tuple[str, PostRef]] = []
    for user in dict.fromkeys(users):
        purpose = f"{prefix}:{user}"
        if purpose in ctx.posts:
            continue
        keyed = replace(message, event_payload={**message.event_payload, "key": purpose})
        try:
            found = (
                ctx.chat.find_direct_message(
                    user, keyed.event_type, ctx.incident.id, ctx.incident.declared_at, purpose
                )
                if ctx.recovering
                else None
            )
            sent.append((purpose, found or ctx.chat.direct_message(user, keyed)))
        except Exception as exc:
            raise PartialProgress(StepOutcome(more_posts=tuple(sent)), exc) from exc
    return StepOutcome(more_posts=tuple(sent))
