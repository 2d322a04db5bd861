"""Edit: the title, description, type and services change in one transaction; the room follows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from commands.activity import touched
from commands.errors import ChatRefused, NameTaken, RepeatedDelivery, UsageError
from commands.feature import SLOW, Ask, Deps, JobResult, JobState, Recorded, Reply
from commands.incidents import Scheduled, current_roles, incident_in_room
from commands.jobs import JobKind, Parallel, Plan, StepContext, StepOutcome, fresh_job, new_job
from commands.parsing import MAX_DESCRIPTION, MAX_TITLE, Edit
from commands.permissions import NO_ADMINS, Admins, require
from commands.ports import Clock, IncidentSettings, UnitOfWorkFactory
from commands.records import Incident, TimelineEvent
from commands.steps import only_if, post_once, refresh_summary, room, room_names, set_topic
from commands.views import view_of

# The names tried for a renamed room: `<prefix>-<n>-<slug>`, then -2, -3 ... as at declaration.
LABELS = {"title": "Title", "description": "Description", "incident_type": "Type", "services": "Services"}


class EditSettings(IncidentSettings, Protocol):
    """What an edit reads of the config: the known types and services, and whether rooms follow titles."""

    rename_rooms: bool

    def type_names(self) -> list[str]: ...

    def service_names(self) -> list[str]: ...


@dataclass(frozen=True)
class Change:
    """One field that changed, from what to what (lists for services, None for no type)."""

    field: str
    before: Any
    after: Any

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "label": LABELS[self.field], "from": self.before, "to": self.after}

    def line(self) -> str:
        """How the change reads on the timeline (the description's text is in the event's data)."""
        if self.field == "description":
            return "Description cleared" if not self.after else "Description changed"
        return f"{LABELS[self.field]}: {shown(self.before)} → {shown(self.after)}"


def shown(value: Any) -> str:
    """A field's value as people read it: no type, no services."""
    if isinstance(value, list):
        return ", ".join(value) if value else "none"
    return "none" if value is None else str(value)


class EditFeature:
    """`/incident edit title|description <text>` and the edit form."""

    name = "edit"
    answers_in_ack = False
    slow = SLOW

    def record(self, cmd: Edit, ask: Ask, deps: Deps) -> Recorded:
        scheduled = edit_incident(
            cmd,
            user_id=ask.user_id,
            channel_id=ask.room,
            uow=deps.uow,
            clock=deps.clock,
            settings=deps.settings,
            lease=deps.lease,
            admins=deps.admins,
            delivery_key=ask.delivery_key,
        )
        if scheduled is None:
            return Recorded(answer=":information_source: Nothing changed: the incident already says that.")
        return Recorded(scheduled=scheduled, reply=_reply(scheduled.incident.ref))


def _reply(ref: str) -> Reply:
    def reply(result: JobResult) -> str:
        return {
            JobState.DONE: f":pencil2: {ref} edited; the war room shows the change.",
            JobState.PENDING: f":hourglass: {ref} edited; the war room will show it shortly (Slack is slow, "
            "or the incident's earlier changes go first).",
            JobState.GAVE_UP: f":warning: {ref} edited on the timeline, but the war room could not show it.",
            JobState.QUEUED: f":hourglass: {ref} edited; the war room will show it in a moment.",
        }[result.state]

    return reply


EDIT = EditFeature()


def post_edited(ctx: StepContext) -> StepOutcome:
    message = ctx.presenter.edited(ctx.incident, ctx.payload)
    return post_once(ctx, f"edited:{ctx.payload['event_id']}", room(ctx), message)


def rename_room(ctx: StepContext) -> StepOutcome:
    """Rename the room after the new title; a taken name moves on to -2, -3 ... as at declaration."""
    channel = room(ctx)
    names = room_names(ctx)  # as at declaration
    if ctx.incident.channel_name in names:
        return StepOutcome()  # the title changed, its slug did not: the room's name already fits it
    for name in names:
        try:
            stored = ctx.chat.rename_channel(channel, name)
        except NameTaken:
            # A retry after a rename that landed unrecorded finds the room already has the name.
            if ctx.recovering and ctx.chat.find_own_channel(name) == channel:
                stored = name
            else:
                continue
        return StepOutcome(
            incident={"channel_name": stored}, events=[("room_renamed", f"Renamed the war room to #{stored}")]
        )
    raise ChatRefused("conversations.rename", "name_taken")  # ten names in a row taken: someone must look


PLANS: dict[str, Plan] = {
    JobKind.EDIT: [
        Parallel(
            ("post_edited", post_edited),
            ("refresh_summary", refresh_summary),
            ("set_topic", set_topic),
            ("rename_room", only_if("rename", rename_room)),
        ),
    ],
}


def check_choices(cmd: Edit, settings: EditSettings) -> None:
    """Refuse an unknown type or service, naming the known ones (nothing changed)."""
    if cmd.incident_type is not None and cmd.incident_type not in settings.type_names():
        known = ", ".join(settings.type_names()) or "none are configured"
        raise UsageError(f"Unknown type `{cmd.incident_type[:40]}`. Types: {known}.")
    unknown = [s for s in cmd.services or () if s not in settings.service_names()]
    if unknown:
        known = ", ".join(settings.service_names()) or "none are configured"
        raise UsageError(f"Unknown service `{unknown[0][:40]}`. Services: {known}.")


def _changes(incident: Incident, cmd: Edit) -> list[Change]:
    wanted: list[tuple[str, Any]] = []
    if cmd.title is not None:
        wanted.append(("title", cmd.title))
    if cmd.description is not None:
        wanted.append(("description", cmd.description))
    if cmd.incident_type is not None:
        wanted.append(("incident_type", cmd.incident_type))
    if cmd.services is not None:
        wanted.append(("services", list(dict.fromkeys(cmd.services))))
    return [
        Change(field, getattr(incident, field), value)
        for field, value in wanted
        if value != getattr(incident, field)
    ]


def _check_text(cmd: Edit) -> None:
    if cmd.title is not None and not cmd.title.strip():
        raise UsageError("A title cannot be empty.")
    if cmd.title is not None and len(cmd.title) > MAX_TITLE:
        raise UsageError(f"The title is {len(cmd.title)} characters long; the limit is {MAX_TITLE}.")
    if cmd.description is not None and len(cmd.description) > MAX_DESCRIPTION:
        raise UsageError(
            f"The description is {len(cmd.description)} characters long; the limit is {MAX_DESCRIPTION}."
        )


def edit_incident(
    cmd: Edit,
    *,
    user_id: str,
    channel_id: str,
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: EditSettings,
    lease: timedelta,
    admins: Admins = NO_ADMINS,
    delivery_key: str | None = None,
) -> Scheduled | None:
    """Record what changed, its `edited` event and the job that shows it; None when nothing would change.

    Raises NotInWarRoom, UsageError, PermissionDenied, AdminsUnknown, RepeatedDelivery.
    """
    _check_text(cmd)
    check_choices(cmd, settings)
    with uow() as tx:
        incident = incident_in_room(tx, channel_id, for_update=True)
        now = clock.now()  # after the lock: events commit in the order their times say
        if delivery_key is not None and not tx.deliveries.first_time(delivery_key, now):
            raise RepeatedDelivery(delivery_key)
        require(
            "edit", settings, user=user_id, roles=current_roles(incident), admins=admins, ref=incident.ref
        )
        changes = _changes(incident, cmd)
        if not changes:
            tx.commit()  # only the delivery: a retried form is not answered twice
            return None
        for change in changes:
            setattr(incident, change.field, change.after)
        touched(incident, now, settings)
        event = tx.timeline.add(
            TimelineEvent(
                incident_id=incident.id,
                kind="edited",
                actor=user_id,
                text="Edited: " + "; ".join(change.line() for change in changes),
                occurred_at=now,
                data={"changes": {c.field: {"from": c.before, "to": c.after} for c in changes}},
            )
        )
        tx.flush()
        renamed = any(c.field == "title" for c in changes) and settings.rename_rooms
        payload = {
            "event_id": event.id,
            "by": user_id,
            "changes": [change.as_dict() for change in changes],
            "rename": bool(renamed and incident.channel_id),
            "at": now.isoformat(),
        }
        fresh = fresh_job(tx, incident.id, JobKind.EDIT, payload)
        job = tx.jobs.add(new_job(JobKind.EDIT, incident.id, now, lease, payload))
        scheduled = Scheduled(
            view_of(incident, settings.severity_description(incident.severity)), job.id, fresh=fresh
        )
        tx.commit()
        return scheduled


@dataclass(frozen=True)
class EditPrefill:
    """What the edit form starts with: the incident as it is now."""

    title: str
    description: str
    incident_type: str | None
    services: Sequence[str]


def edit_prefill(
    *, user_id: str, channel_id: str, uow: UnitOfWorkFactory, settings: IncidentSettings, admins: Admins
) -> EditPrefill:
    """The room incident's editable fields; a person who may not edit is told before filling in a form."""
    with uow() as tx:
        incident = incident_in_room(tx, channel_id)
        require(
            "edit", settings, user=user_id, roles=current_roles(incident), admins=admins, ref=incident.ref
        )
        return EditPrefill(
            incident.title, incident.description, incident.incident_type, list(incident.services)
        )
