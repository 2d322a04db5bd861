"""The Slack steps of assigning, updating and escalating; each idempotent, each recorded once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from commands.jobs import GiveUp, JobKind, Parallel, PartialProgress, Plan, Step, StepContext, StepOutcome
from commands.ports import Message, PostRef
from commands.provisioning import announce_message, post_once, refresh_summary, set_topic


def _room(ctx: StepContext) -> str:
    if not ctx.incident.channel_id:
        # Later jobs wait for the room while it is being set up: none means setting it up gave up.
        raise GiveUp("its war room could not be created")
    return ctx.incident.channel_id


def invite_assignee(ctx: StepContext) -> StepOutcome:
    ctx.chat.invite(_room(ctx), [ctx.payload["user"]])
    return StepOutcome()


def brief_assignee(ctx: StepContext) -> StepOutcome:
    """A short DM: what the role means and where the room is."""
    role = ctx.payload["role"]
    message = ctx.presenter.briefing(ctx.incident, role, ctx.settings.role_description(role))
    return direct_message_each(ctx, [ctx.payload["user"]], f"briefing:{ctx.job_id}", message)


def post_role_in_room(ctx: StepContext) -> StepOutcome:
    """Everyone in the room sees who holds the role now (and who held it before)."""
    message = ctx.presenter.role_assigned(ctx.incident, {**ctx.payload, "key": ctx.job_id})
    return post_once(ctx, f"role:{ctx.job_id}", _room(ctx), message)


def post_update_in_room(ctx: StepContext) -> StepOutcome:
    message = ctx.presenter.update(ctx.incident, ctx.payload)
    return post_once(ctx, f"update:{ctx.payload['event_id']}", _room(ctx), message)


def announce_update(ctx: StepContext) -> StepOutcome:
    if ctx.incident.private:
        return StepOutcome()
    message = ctx.presenter.update_announcement(ctx.incident, ctx.payload)
    return announce_message(
        ctx, f"update_announce:{ctx.payload['event_id']}", message, "update", record=False
    )


def invite_joiner(ctx: StepContext) -> StepOutcome:
    """Someone paged pressed *Join war room*: add them (again, if they left)."""
    ctx.chat.invite(_room(ctx), [ctx.payload["user"]])
    return StepOutcome()


def only_if(flag: str, step: Step) -> Step:
    """Run a step only when the payload says what it shows has changed."""

    def conditional(ctx: StepContext) -> StepOutcome:
        return step(ctx) if ctx.payload.get(flag) else StepOutcome()

    return conditional


def invite_paged(ctx: StepContext) -> StepOutcome:
    paged = list(ctx.payload.get("paged") or [])
    if paged:
        ctx.chat.invite(_room(ctx), paged)
    return StepOutcome()


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


def page_people(ctx: StepContext) -> StepOutcome:
    _room(ctx)
    message = ctx.presenter.page(ctx.incident, ctx.payload["by"])
    return direct_message_each(
        ctx, ctx.payload.get("paged") or [], f"page:{ctx.payload['event_id']}", message
    )


def post_escalation_in_room(ctx: StepContext) -> StepOutcome:
    message = ctx.presenter.escalation(ctx.incident, ctx.payload)
    return post_once(ctx, f"escalation:{ctx.payload['event_id']}", _room(ctx), message)


def announce_escalation(ctx: StepContext) -> StepOutcome:
    if ctx.incident.private:
        return StepOutcome()
    message = ctx.presenter.escalation_announcement(ctx.incident, ctx.payload)
    return announce_message(
        ctx, f"escalation_announce:{ctx.payload['event_id']}", message, "escalation", record=False
    )


RESPONSE_PLANS: dict[str, Plan] = {
    JobKind.ASSIGN: [
        Parallel(
            ("invite_assignee", invite_assignee),
            ("brief_assignee", brief_assignee),
            ("post_role", post_role_in_room),
            ("refresh_summary", refresh_summary),
        ),
    ],
    JobKind.UPDATE: [
        Parallel(
            ("post_update", post_update_in_room),
            ("announce_update", announce_update),
            # The summary and topic show the status, not the update's words.
            ("refresh_summary", only_if("status_changed", refresh_summary)),
            ("set_topic", only_if("status_changed", set_topic)),
        ),
    ],
    JobKind.ESCALATE: [
        ("invite_paged", invite_paged),
        Parallel(
            ("page_people", page_people),
            ("post_escalation", post_escalation_in_room),
            ("announce_escalation", announce_escalation),
            ("refresh_summary", only_if("severity_changed", refresh_summary)),
            ("set_topic", only_if("severity_changed", set_topic)),
        ),
    ],
    JobKind.JOIN: [("invite_joiner", invite_joiner)],
}
