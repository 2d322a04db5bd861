"""Checklists: the type's and the severity's items, recorded at declaration and posted as checkboxes;
ticking or unticking one records who and when, and the message shows it to everyone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from commands.activity import touched
from commands.errors import RepeatedDelivery
from commands.feature import SLOW, Ask, Deps, Recorded
from commands.incidents import DeclareSettings, Scheduled, incident_in_room
from commands.jobs import JobKind, Plan, StepContext, StepOutcome, fresh_job, new_job
from commands.parsing import TickChecklist
from commands.ports import Clock, IncidentSettings, UnitOfWorkFactory
from commands.records import ChecklistItem, Incident, TimelineEvent
from commands.steps import post_once, room
from commands.views import ChecklistLine, view_of

MAX_ITEMS = 100  # ten checkbox groups of ten: the first hundred configured items are kept
MAX_SOURCE = 40  # the width of checklist_items.source


def new_checklist(incident: Incident, settings: DeclareSettings) -> list[ChecklistItem]:
    """The items a new incident gets: its type's (the default type's when none), then its severity's."""
    items = settings.checklist(incident.incident_type, incident.severity)[:MAX_ITEMS]
    return [
        ChecklistItem(incident_id=incident.id, position=position, text=text, source=source[:MAX_SOURCE])
        for position, (text, source) in enumerate(items)
    ]


def lines(items: Sequence[ChecklistItem]) -> list[ChecklistLine]:
    return [ChecklistLine(i.position, i.text, i.done_by, i.done_at) for i in items]


def checklist_payload(items: Sequence[ChecklistItem]) -> list[dict[str, object]]:
    """The items as a job carries them, so its step renders without reading the database."""
    return [line.to_payload() for line in lines(items)]


def _lines_of(ctx: StepContext) -> list[ChecklistLine]:
    return [ChecklistLine.from_payload(item) for item in ctx.payload.get("checklist") or []]


def post_checklist(ctx: StepContext) -> StepOutcome:
    """Provisioning: post the checklist in the new room, once (nothing when the incident has none)."""
    items = _lines_of(ctx)
    if not items:
        return StepOutcome()
    outcome = post_once(ctx, "checklist", room(ctx), ctx.presenter.checklist(ctx.incident, items))
    return StepOutcome(
        post=outcome.post, events=[("checklist_posted", f"Posted the checklist ({len(items)} items)")]
    )


def update_checklist(ctx: StepContext) -> StepOutcome:
    """Show the recorded ticks on the checklist message (the latest job carries the latest state)."""
    ref = ctx.posts.get("checklist")
    channel, ts = (
        (ref.channel, ref.ts) if ref is not None else (ctx.payload.get("channel"), ctx.payload.get("ts"))
    )
    if channel and ts:
        ctx.chat.update(str(channel), str(ts), ctx.presenter.checklist(ctx.incident, _lines_of(ctx)))
    return StepOutcome()


PLANS: dict[str, Plan] = {
    JobKind.CHECKLIST: [("update_checklist", update_checklist)],
}


class TickChecklistFeature:
    """A checklist checkbox ticked or unticked in the room: anyone in the room may."""

    name = "checklist"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: TickChecklist, ask: Ask, deps: Deps) -> Recorded:
        scheduled = tick_checklist(
            cmd,
            user_id=ask.user_id,
            channel_id=ask.room,
            uow=deps.uow,
            clock=deps.clock,
            settings=deps.settings,
            lease=deps.lease,
            delivery_key=ask.delivery_key,
        )
        # The checklist message is the answer everyone sees.
        return Recorded(scheduled=scheduled, wait=False)


TICK_CHECKLIST = TickChecklistFeature()


def tick_checklist(
    cmd: TickChecklist,
    *,
    user_id: str,
    channel_id: str,
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: IncidentSettings,
    lease: timedelta,
    delivery_key: str | None = None,
) -> Scheduled:
    """Record who ticked or unticked which items, and schedule the message's update when any changed.

    An item already as asked is left alone (its first ticker stays). Raises NotInWarRoom, RepeatedDelivery.
    """
    with uow() as tx:
        incident = incident_in_room(tx, channel_id, for_update=True)  # ticks of one room in turn
        now = clock.now()
        if delivery_key is not None and not tx.deliveries.first_time(delivery_key, now):
            raise RepeatedDelivery(delivery_key)
        items = tx.checklist.list_for(incident.id)
        by_position = {item.position: item for item in items}
        changed = False
        for position in dict.fromkeys(cmd.checked):
            item = by_position.get(position)
            if item is None or item.done_at is not None:
                continue
            item.done_by, item.done_at = user_id, now
            tx.timeline.add(
                _event(incident, item, "checklist_checked", f"Checked: {item.text}", user_id, now)
            )
            changed = True
        for position in dict.fromkeys(cmd.unchecked):
            item = by_position.get(position)
            if item is None or item.done_at is None:
                continue
            item.done_by, item.done_at = None, None
            tx.timeline.add(
                _event(incident, item, "checklist_unchecked", f"Unchecked: {item.text}", user_id, now)
            )
            changed = True
        if changed:
            touched(incident, now, settings)  # someone is working the incident: it is not stale
        view = view_of(incident, settings.severity_description(incident.severity))
        if not changed:
            tx.commit()  # the delivery, so a retry stays a retry
            return Scheduled(view, None)
        post = tx.posts.get(incident.id, "checklist")
        payload: dict[str, object] = {"checklist": checklist_payload(items)}
        if post is not None:
            payload.update(channel=post.channel_id, ts=post.ts)
        fresh = fresh_job(tx, incident.id, JobKind.CHECKLIST, payload)
        job = tx.jobs.add(new_job(JobKind.CHECKLIST, incident.id, now, lease, payload))
        tx.commit()
        return Scheduled(view, job.id, fresh=fresh)


def _event(
    incident: Incident, item: ChecklistItem, kind: str, text: str, user: str, now: datetime
) -> TimelineEvent:
    return TimelineEvent(
        incident_id=incident.id,
        kind=kind,
        actor=user,
        text=text,
        occurred_at=now,
        data={"position": item.position, "text": item.text},
    )
