"""Run a parsed command after the ack: call the domain action, start its Slack work, and reply."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import TypedDict

from bot.ops.config import IncidentConfig
from bot.pipeline.replies import Reply, reporting
from bot.pipeline.runtime import JobState, Runtime
from bot.slack.lookups import people_to_page
from commands import incidents
from commands.errors import UnknownTarget
from commands.escalation import escalate
from commands.limits import check_page_count
from commands.parsing import (
    AddActionItem,
    Assign,
    Command,
    Escalate,
    ListOpen,
    Note,
    Postmortem,
    PostUpdate,
    Resolve,
    Status,
)
from commands.permissions import AdminsUnknown
from commands.ports import Clock, UnitOfWorkFactory
from commands.postmortem import request_postmortem
from commands.roles import assign_role
from commands.timeline import add_action_item, add_note
from commands.updates import post_update


class ActionDeps(TypedDict):
    """What every recording action takes from the runtime, passed as `**deps(rt)`."""

    uow: UnitOfWorkFactory
    clock: Clock
    settings: IncidentConfig
    lease: timedelta


def deps(rt: Runtime) -> ActionDeps:
    return ActionDeps(uow=rt.uow, clock=rt.clock, settings=rt.config, lease=rt.lease)


@dataclass(frozen=True)
class Caller:
    """Who sent the command, from where, and how to answer only them."""

    user_id: str
    channel_id: str | None
    reply: Reply

    @property
    def room(self) -> str:
        return self.channel_id or ""


def perform(rt: Runtime, cmd: Command, caller: Caller) -> None:
    """Run a command acknowledged before anything is recorded: reads, and assign/escalate (Slack look-ups).

    Declares and the other changes are committed before their ack instead (see pipeline/);
    help and the forms are answered by the listener itself.
    """
    with reporting(caller.reply, type(cmd).__name__):
        if isinstance(cmd, Status):
            view = incidents.incident_status(channel_id=caller.room, uow=rt.uow, settings=rt.config)
            caller.reply(rt.presenter.status_reply(view))
        elif isinstance(cmd, ListOpen):
            caller.reply(rt.presenter.list_reply(incidents.list_open_incidents(uow=rt.uow)))
        elif isinstance(cmd, Assign):
            assign(rt, cmd, caller)
        elif isinstance(cmd, Escalate):
            escalate_incident(rt, cmd, caller)
        else:
            raise TypeError(f"{type(cmd).__name__} is not run after its ack")


@dataclass(frozen=True)
class Recorded:
    """A committed change, and what follows it after the ack: its Slack work and the reply."""

    then: Callable[[], None]


def record_first(rt: Runtime, cmd: Command, caller: Caller) -> Callable[[], Recorded] | None:
    """The commit of a command that needs nothing from Slack before it, to run before the ack; else None.

    Assign and escalate look people up in Slack first, and reads change nothing: they run after the ack.
    """
    if isinstance(cmd, Note):
        return partial(_record_note, rt, cmd, caller)
    if isinstance(cmd, AddActionItem):
        return partial(_record_action_item, rt, cmd, caller)
    if isinstance(cmd, PostUpdate):
        return partial(record_update, rt, cmd, caller)
    if isinstance(cmd, Resolve):
        return partial(_record_resolution, rt, cmd, caller)
    if isinstance(cmd, Postmortem):
        return partial(_record_postmortem_request, rt, caller)
    return None


def _record_note(rt: Runtime, cmd: Note, caller: Caller) -> Recorded:
    ref = add_note(cmd, user_id=caller.user_id, channel_id=caller.room, uow=rt.uow, clock=rt.clock)
    return Recorded(then=partial(caller.reply, f":memo: Added to the {ref} timeline."))


def _record_action_item(rt: Runtime, cmd: AddActionItem, caller: Caller) -> Recorded:
    ref = add_action_item(cmd, user_id=caller.user_id, channel_id=caller.room, uow=rt.uow, clock=rt.clock)
    return Recorded(then=partial(caller.reply, f":white_check_mark: Action item recorded for {ref}."))


def _record_resolution(rt: Runtime, cmd: Resolve, caller: Caller) -> Recorded:
    """Resolve the room's incident (commander or admins by default); then post the resolution and draft."""
    scheduled = incidents.resolve_incident(
        cmd,
        user_id=caller.user_id,
        channel_id=caller.room,
        **deps(rt),
        admins=rt,  # consulted only when the cheap rules refuse, and never asks Slack
    )

    def post() -> None:
        # Nobody waits for these replies-free jobs: a web replica leaves them to the workers at once.
        rt.run_scheduled(scheduled, wait=False)
        for job_id in scheduled.then:
            rt.run_job(job_id, wait=False)

    return Recorded(then=post)


def assign(rt: Runtime, cmd: Assign, caller: Caller) -> None:
    """Hand a role to someone who exists in the workspace, then invite and brief them."""
    if not rt.chat.user_exists(cmd.user_id):
        raise UnknownTarget(f"I can't find <@{cmd.user_id}> in this workspace; nothing was changed.")
    record_assignment(rt, cmd, caller).then()


def record_assignment(
    rt: Runtime, cmd: Assign, caller: Caller, delivery_key: str | None = None, *, vacant_only: bool = False
) -> Recorded:
    """Record the role (the person is known to exist); then invite and brief them, and confirm."""
    scheduled = assign_role(
        cmd,
        user_id=caller.user_id,
        channel_id=caller.room,
        **deps(rt),
        delivery_key=delivery_key,
        admins=rt,
        vacant_only=vacant_only,
    )
    ref = scheduled.incident.ref

    def brief() -> None:
        if scheduled.job_id is None:
            caller.reply(f"<@{cmd.user_id}> is already {cmd.role} for {ref}.")
            return
        state = rt.job_state(scheduled.job_id, rt.run_scheduled(scheduled))
        now = f"<@{cmd.user_id}> is now {cmd.role} for {ref}"
        caller.reply(
            {
                JobState.DONE: f":bust_in_silhouette: {now}.",
                JobState.PENDING: f":bust_in_silhouette: {now}. Slack is slow: the room and their briefing "
                "will follow as soon as it answers.",
                JobState.GAVE_UP: f":bust_in_silhouette: {now}, but I could not tell the room or brief them.",
                JobState.QUEUED: f":bust_in_silhouette: {now}. Telling the room and briefing them is on its "
                "way.",
            }[state]
        )

    return Recorded(then=brief)


def record_update(rt: Runtime, cmd: PostUpdate, caller: Caller, delivery_key: str | None = None) -> Recorded:
    """Record a stakeholder update; then post it to the room (and the announce channel) and confirm."""
    scheduled = post_update(
        cmd,
        user_id=caller.user_id,
        channel_id=caller.room,
        **deps(rt),
        delivery_key=delivery_key,
    )
    where = (
        "the war room" if scheduled.incident.private else f"the war room and #{rt.config.announce_channel}"
    )

    def post() -> None:
        state = rt.job_state(scheduled.job_id, rt.run_scheduled(scheduled))
        ref = scheduled.incident.ref
        caller.reply(
            {
                JobState.DONE: f":mega: Update for {ref} posted to {where}.",
                JobState.PENDING: f":hourglass: Update for {ref} recorded; it is not in {where} yet and will "
                "follow shortly (Slack is slow, or the incident's earlier updates go first).",
                JobState.GAVE_UP: f":warning: Update for {ref} recorded on the timeline, but I could not "
                f"post it to {where}.",
                JobState.QUEUED: f":hourglass: Update for {ref} recorded; it is on its way to {where}.",
            }[state]
        )

    return Recorded(then=post)


def escalate_incident(rt: Runtime, cmd: Escalate, caller: Caller) -> None:
    """Check the named people and groups exist, expand the groups, then record and page.

    Runs after the ack, so Slack may be asked here: the look-ups, and the admin group when only it could
    allow lowering the severity.
    """
    limit = rt.config.max_paged_per_command
    check_page_count(len(cmd.users) + len(cmd.groups), limit)  # before a single look-up
    paged = list(dict.fromkeys(people_to_page(rt.chat, cmd.users, cmd.groups)))
    check_page_count(len(paged), limit)
    user, room = caller.user_id, caller.room
    record = partial(escalate, cmd, user_id=user, channel_id=room, paged_users=paged, admins=rt, **deps(rt))
    try:
        scheduled = record()
    except AdminsUnknown:
        rt.admins.refresh_now()
        scheduled = record()
    state = rt.job_state(scheduled.job_id, rt.run_scheduled(scheduled))
    ref = scheduled.incident.ref
    caller.reply(
        {
            JobState.DONE: f":rotating_light: {ref} escalated.",
            JobState.PENDING: f":rotating_light: {ref} escalated. Slack is slow: the pages and posts will go "
            "out as soon as it answers.",
            JobState.GAVE_UP: f":warning: {ref} escalated on the timeline, but I could not page everyone.",
            JobState.QUEUED: f":rotating_light: {ref} escalated. The pages and posts are on their way.",
        }[state]
    )


def _record_postmortem_request(rt: Runtime, caller: Caller) -> Recorded:
    """Schedule a fresh postmortem draft of the room's incident, open or resolved; then upload it."""
    scheduled = request_postmortem(
        user_id=caller.user_id,
        channel_id=caller.room,
        **deps(rt),
    )
    ref = scheduled.incident.ref

    def upload() -> None:
        state = rt.job_state(scheduled.job_id, rt.run_job(scheduled.job_id))
        if state is JobState.DONE:
            caller.reply(f":memo: The postmortem draft for {ref} is in the war room.")
        elif state is JobState.PENDING:
            caller.reply(f":hourglass: Slack is slow; I will post the postmortem draft for {ref} here soon.")
        elif state is JobState.QUEUED:
            caller.reply(f":hourglass: The postmortem draft for {ref} is recorded and on its way here.")
        # Given up: the person was told what went wrong and how to fix it.

    return Recorded(then=upload)
