"""The Slack steps of declaring and resolving: each idempotent, each recorded once by the job runner."""

from __future__ import annotations

import logging

from commands.errors import ChannelNotFound, ChatRefused, NameTaken
from commands.jobs import Chain, JobKind, Parallel, Plan, StepContext, StepOutcome
from commands.ports import Message, PostRef
from commands.text import channel_name

log = logging.getLogger(__name__)

MAX_NAME_ATTEMPTS = 10


def create_room(ctx: StepContext) -> StepOutcome:
    """Create the war room, moving to a deterministic suffix while the name is taken."""
    inc = ctx.incident
    for attempt in range(MAX_NAME_ATTEMPTS):
        name = channel_name(ctx.settings.channel_prefix, inc.id, inc.title, attempt)
        try:
            channel = ctx.chat.create_channel(name, private=inc.private)
        except NameTaken:
            # After a crash the room we asked for may exist already: adopt it rather than make a second.
            found = ctx.chat.find_own_channel(name) if ctx.recovering else None
            if found is None:
                continue
            channel = found
        kind = "private war room" if inc.private else "war room"
        return StepOutcome(
            incident={"channel_id": channel, "channel_name": name},
            events=[("room_created", f"Opened {kind} #{name}")],
        )
    raise ChatRefused("conversations.create", "name_taken")  # ten names in a row taken: someone must look


def _room(ctx: StepContext) -> str:
    assert ctx.incident.channel_id, "the room is created first"
    return ctx.incident.channel_id


def invite_declarer(ctx: StepContext) -> StepOutcome:
    ctx.chat.invite(_room(ctx), [ctx.incident.declared_by])
    return StepOutcome(events=[("member_invited", f"Invited <@{ctx.incident.declared_by}>")])


def set_topic(ctx: StepContext) -> StepOutcome:
    ctx.chat.set_topic(_room(ctx), ctx.presenter.topic(ctx.incident))
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


def post_summary(ctx: StepContext) -> StepOutcome:
    outcome = post_once(ctx, "summary", _room(ctx), ctx.presenter.summary(ctx.incident))
    return StepOutcome(post=outcome.post, events=[("summary_posted", "Posted the incident summary")])


def pin_summary(ctx: StepContext) -> StepOutcome:
    ref = ctx.posts["summary"]
    ctx.chat.pin(ref.channel, ref.ts)
    return StepOutcome(events=[("summary_pinned", "Pinned the incident summary")])


def announce_message(
    ctx: StepContext, purpose: str, message: Message, what: str, *, record: bool = True
) -> StepOutcome:
    """Post in the announce channel; a missing channel is told to the declarer and does not block the room."""
    try:
        outcome = post_once(ctx, purpose, ctx.settings.announce_channel, message)
    except ChannelNotFound:
        # The war room still works; the declarer learns why stakeholders heard nothing.
        log.warning("announce channel not found; %s not announced", ctx.incident.ref)
        if ctx.incident.channel_id:
            ctx.chat.notify(
                ctx.incident.channel_id,
                ctx.incident.declared_by,
                f"I could not post in the announce channel `{ctx.settings.announce_channel}`: "
                "it does not exist or I am not allowed in it. Ask an admin to fix `announce_channel`.",
            )
        return StepOutcome(
            events=[("announce_failed", f"Could not announce the {what}: announce channel not found")]
        )
    events = [("announced", f"Announced the {what} to stakeholders")] if record else []
    return StepOutcome(post=outcome.post, events=events)


def announce(ctx: StepContext) -> StepOutcome:
    return announce_message(ctx, "announce", ctx.presenter.announcement(ctx.incident), "incident")


def mark_provisioned(ctx: StepContext) -> StepOutcome:
    return StepOutcome(incident={"provisioned_at": ctx.clock.now()})


def post_resolution(ctx: StepContext) -> StepOutcome:
    outcome = post_once(ctx, "resolution", _room(ctx), ctx.presenter.resolution(ctx.incident))
    return StepOutcome(post=outcome.post)


def announce_resolution(ctx: StepContext) -> StepOutcome:
    message = ctx.presenter.resolution_announcement(ctx.incident)
    return announce_message(ctx, "resolution_announce", message, "resolution")


def refresh_summary(ctx: StepContext) -> StepOutcome:
    """Re-render the pinned summary in place so it never shows a stale status."""
    ref = ctx.posts.get("summary")
    if ref is not None:
        ctx.chat.update(ref.channel, ref.ts, ctx.presenter.summary(ctx.incident))
    return StepOutcome()


PLANS: dict[str, Plan] = {
    # Everything needs the room; then four independent calls at once; the pin needs the summary.
    JobKind.PROVISION: [
        # Everything needs the room; then all at once: the invite, the topic, the announcement, and the
        # summary followed by its pin (a lane of its own, so the announce channel's pace never holds it up).
        ("create_room", create_room),
        Parallel(
            ("invite_declarer", invite_declarer),
            ("set_topic", set_topic),
            Chain(("post_summary", post_summary), ("pin_summary", pin_summary)),
            ("announce", announce),
        ),
        ("mark_provisioned", mark_provisioned),
    ],
    JobKind.RESOLVE: [
        Parallel(
            ("post_resolution", post_resolution),
            ("announce_resolution", announce_resolution),
            ("refresh_summary", refresh_summary),
            ("set_topic", set_topic),
        ),
    ],
}
