"""The Slack and pager side of paging: DMs with *Acknowledge*, pager alerts, what the room is told.

Every step is idempotent: DMs and room posts are recorded once by purpose, and a pager verb repeated for
the same dedup key changes nothing more at the pager. A pager that does not answer never holds up the
DMs: its step is retried with the job, and the room is told once that it did not answer, then once more
when it took the request (or refused it, with the pager's reason).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol, cast

from commands.errors import ChatError, UnknownTarget
from commands.jobs import MAX_ATTEMPTS, JobKind, Parallel, PartialProgress, Plan, StepContext, StepOutcome
from commands.mrkdwn import escape, mention
from commands.pager import PagerError, PagerRefused
from commands.ports import Message, PostRef
from commands.steps import post_once, room
from commands.views import IncidentView

SERVICE_NAMES = {"pagerduty": "PagerDuty", "opsgenie": "Opsgenie"}
# What each pager verb is, and what it is once done, for the room.
_WHAT = {"page": "trigger the page", "acknowledge": "acknowledge the alert", "resolve": "resolve the alert"}
_DONE = {
    "page": "the page went through",
    "acknowledge": "the alert is acknowledged",
    "resolve": "the alert is resolved",
}


class PagePresenter(Protocol):
    def page_request(self, incident: IncidentView, payload: dict[str, Any]) -> Message:
        """A page's DM: who paged and why, with *Acknowledge* (the page's id) and *Join war room*."""
        ...

    def page_answered(self, incident: IncidentView, payload: dict[str, Any]) -> Message:
        """A page's DM once acknowledged: no buttons, who acknowledged."""
        ...


def _presenter(ctx: StepContext) -> PagePresenter:
    return cast(PagePresenter, ctx.presenter)


def notice(ctx: StepContext, purpose: str, text: str) -> StepOutcome:
    """Tell the room once (a retry finds the post by its purpose, or by its metadata after a crash)."""
    message = Message(
        text=text,
        event_type="incident_page",
        event_payload={"incident_id": ctx.incident.id, "incident": ctx.incident.ref, "key": purpose},
    )
    return post_once(ctx, purpose, room(ctx), message)


def dm_purpose(page_id: int, user: str) -> str:
    return f"page_dm:{page_id}:{user}"


def page_people(ctx: StepContext) -> StepOutcome:
    """DM each person paged (groups' members too) once; who cannot be reached is told in the room."""
    wanted: list[tuple[int, str, str | None]] = [
        (int(p), str(u), None) for p, u in ctx.payload.get("people", [])
    ]
    missing: list[str] = []
    for page_id, group in ctx.payload.get("groups", []):
        try:
            wanted += [(int(page_id), member, str(group)) for member in ctx.chat.group_members(str(group))]
        except UnknownTarget:
            missing.append(f"user group {escape(group)} does not exist")
    sent: list[tuple[str, PostRef]] = []
    for page_id, user, group in wanted:
        purpose = dm_purpose(page_id, user)
        if purpose in ctx.posts or any(p == purpose for p, _ in sent):
            continue
        payload = {**ctx.payload, "page_id": page_id, "group": group}
        base = _presenter(ctx).page_request(ctx.incident, payload)
        message = Message(
            text=base.text,
            event_type=base.event_type,
            event_payload={**base.event_payload, "key": purpose},
            blocks=base.blocks,
        )
        try:
            found = (
                ctx.chat.find_direct_message(
                    user, message.event_type, ctx.incident.id, ctx.incident.declared_at, purpose
                )
                if ctx.recovering
                else None
            )
            sent.append((purpose, found or ctx.chat.direct_message(user, message)))
        except ChatError as exc:
            if exc.retryable:
                raise PartialProgress(StepOutcome(more_posts=tuple(sent)), exc) from exc
            missing.append(f"{mention(user)} ({exc.code})")
    if missing:
        told = notice(ctx, f"page_missed:{ctx.job_id}", "Could not page: " + "; ".join(missing))
        sent += told.all_posts()
    return StepOutcome(more_posts=tuple(sent))


def at_pagers(
    ctx: StepContext, items: Sequence[tuple[str, str, str]], call: Callable[[str, str], None], verb: str
) -> StepOutcome:
    """Call the pager for each (target, tag); one that does not answer is retried with the job, the room
    told once that it did not, and once more when it finally takes it or refuses it."""
    posts: list[tuple[str, PostRef]] = []
    failure: PagerError | None = None
    last_try = ctx.attempts >= MAX_ATTEMPTS
    for target, key, long_tag in items:
        tag = _short(long_tag)
        down = f"pager_down:{ctx.job_id}:{tag}"
        try:
            call(target, key)
        except PagerError as exc:
            if last_try:
                text = f":warning: `{escape(target)}` never answered; I gave up trying to {_WHAT[verb]}."
                posts += notice(ctx, f"pager_gave_up:{ctx.job_id}:{tag}", text).all_posts()
                continue
            if down not in ctx.posts:
                text = f":warning: `{escape(target)}` did not answer; I will keep trying to {_WHAT[verb]}."
                posts += notice(ctx, down, text).all_posts()
            failure = failure or exc
            continue
        except PagerRefused as exc:
            text = f":warning: `{escape(target)}` refused to {_WHAT[verb]}: {escape(exc.reason)}."
            posts += notice(ctx, f"pager_refused:{ctx.job_id}:{tag}", text).all_posts()
            continue
        if down in ctx.posts:
            text = f":white_check_mark: `{escape(target)}` answered: {_DONE[verb]}."
            posts += notice(ctx, f"pager_up:{ctx.job_id}:{tag}", text).all_posts()
    if failure is not None:
        raise PartialProgress(StepOutcome(more_posts=tuple(posts)), failure)
    return StepOutcome(more_posts=tuple(posts))


def _short(tag: str) -> str:
    """Post purposes are at most 80 characters: a long tag is replaced by its digest."""
    return tag if len(tag) <= 40 else hashlib.sha256(tag.encode()).hexdigest()[:24]


def trigger_pagers(ctx: StepContext) -> StepOutcome:
    key, priority = str(ctx.payload["key"]), int(ctx.payload.get("priority", 3))
    pagers = [(str(t), key, str(p)) for p, t in ctx.payload.get("pagers", [])]
    if not pagers:
        return StepOutcome()
    incident = ctx.incident
    summary = f"{incident.ref} ({incident.severity})" + ("" if incident.private else f": {incident.title}")
    details = {"incident": incident.ref, "severity": incident.severity}
    if incident.channel_id:
        details["room"] = incident.channel_id
    if incident.channel_name:
        details["room_name"] = f"#{incident.channel_name}"

    def trigger(target: str, dedup: str) -> None:
        ctx.pager.trigger(target, dedup, summary[:1000], priority=priority, details=details)

    return at_pagers(ctx, pagers, trigger, "page")


def post_page_notice(ctx: StepContext) -> StepOutcome:
    return notice(ctx, f"page_notice:{ctx.job_id}", str(ctx.payload["notice"]))


def post_ack_notice(ctx: StepContext) -> StepOutcome:
    return notice(ctx, f"page_ack:{ctx.payload['page_id']}", str(ctx.payload["notice"]))


def update_page_dms(ctx: StepContext) -> StepOutcome:
    """Every DM of the acknowledged run loses its buttons and says who acknowledged."""
    prefixes = tuple(f"page_dm:{page_id}:" for page_id in ctx.payload.get("page_ids", []))
    message = _presenter(ctx).page_answered(ctx.incident, ctx.payload)
    for purpose, ref in sorted(ctx.posts.items()):
        if purpose.startswith(prefixes):
            ctx.chat.update(ref.channel, ref.ts, message)
    return StepOutcome()


def acknowledge_pagers(ctx: StepContext) -> StepOutcome:
    key = str(ctx.payload["key"])
    items = [(str(t), key, f"ack:{t}") for t in ctx.payload.get("pagers", [])]
    return at_pagers(ctx, items, ctx.pager.acknowledge, "acknowledge")


def resolve_pagers(ctx: StepContext) -> StepOutcome:
    """One call per (target, key): a target paged by two policies has two alerts."""
    items = [(str(t), str(k), f"resolve:{t}:{str(k).rsplit('-', 1)[-1]}") for t, k in ctx.payload["alerts"]]
    return at_pagers(ctx, items, ctx.pager.resolve, "resolve")


PLANS: dict[str, Plan] = {
    JobKind.PAGE: [
        Parallel(
            ("page_people", page_people),
            ("trigger_pagers", trigger_pagers),
            ("post_page_notice", post_page_notice),
        )
    ],
    JobKind.PAGE_ACK: [
        Parallel(
            ("post_ack_notice", post_ack_notice),
            ("update_page_dms", update_page_dms),
            ("acknowledge_pagers", acknowledge_pagers),
        )
    ],
    JobKind.PAGE_RESOLVE: [("resolve_pagers", resolve_pagers)],
}
