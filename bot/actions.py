"""Run a parsed command after the ack: call the domain action, start its Slack work, and reply."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TypedDict

from bot.config import IncidentConfig
from bot.errors import Reply, reporting
from bot.runtime import Runtime
from commands import incidents
from commands.errors import UnknownTarget
from commands.escalation import escalate
from commands.jobs import UnitOfWorkFactory
from commands.parsing import (
    AddActionItem,
    Assign,
    Command,
    Declare,
    Escalate,
    Help,
    ListOpen,
    Note,
    OpenDeclareForm,
    OpenUpdateForm,
    Postmortem,
    PostUpdate,
    Resolve,
    Status,
    help_text,
)
from commands.ports import Clock
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
    """Dispatch one command; every failure becomes a reply through the error-mapping place."""
    with reporting(caller.reply, type(cmd).__name__):
        if isinstance(cmd, Declare):
            raise TypeError("a declaration is committed before its ack: see bot.declaring")
        if isinstance(cmd, Status):
            view = incidents.incident_status(channel_id=caller.room, uow=rt.uow, settings=rt.config)
            caller.reply(rt.presenter.status_reply(view))
        elif isinstance(cmd, ListOpen):
            caller.reply(rt.presenter.list_reply(incidents.list_open_incidents(uow=rt.uow)))
        elif isinstance(cmd, Resolve):
            resolve(rt, cmd, caller)
        elif isinstance(cmd, Assign):
            assign(rt, cmd, caller)
        elif isinstance(cmd, PostUpdate):
            update(rt, cmd, caller)
        elif isinstance(cmd, Escalate):
            escalate_incident(rt, cmd, caller)
        elif isinstance(cmd, Note):
            ref = add_note(cmd, user_id=caller.user_id, channel_id=caller.room, uow=rt.uow, clock=rt.clock)
            caller.reply(f":memo: Added to the {ref} timeline.")
        elif isinstance(cmd, AddActionItem):
            ref = add_action_item(
                cmd, user_id=caller.user_id, channel_id=caller.room, uow=rt.uow, clock=rt.clock
            )
            caller.reply(f":white_check_mark: Action item recorded for {ref}.")
        elif isinstance(cmd, Postmortem):
            share_postmortem(rt, caller)
        elif isinstance(cmd, Help | OpenDeclareForm | OpenUpdateForm):
            caller.reply(help_text())


def resolve(rt: Runtime, cmd: Resolve, caller: Caller) -> None:
    """Resolve the room's incident (commander or admins by default) and post the resolution."""
    scheduled = incidents.resolve_incident(
        cmd,
        user_id=caller.user_id,
        channel_id=caller.room,
        **deps(rt),
        is_admin=rt.is_admin(caller.user_id),
    )
    rt.run_scheduled(scheduled)
    for job_id in scheduled.then:
        rt.run_job(job_id)


def assign(rt: Runtime, cmd: Assign, caller: Caller) -> None:
    """Hand a role to someone who exists in the workspace, then invite and brief them."""
    if not rt.chat.user_exists(cmd.user_id):
        raise UnknownTarget(f"I can't find <@{cmd.user_id}> in this workspace; nothing was changed.")
    scheduled = assign_role(
        cmd,
        user_id=caller.user_id,
        channel_id=caller.room,
        **deps(rt),
    )
    if scheduled.job_id is None:
        caller.reply(f"<@{cmd.user_id}> is already {cmd.role} for {scheduled.incident.ref}.")
        return
    rt.run_scheduled(scheduled)
    caller.reply(f":bust_in_silhouette: <@{cmd.user_id}> is now {cmd.role} for {scheduled.incident.ref}.")


def update(rt: Runtime, cmd: PostUpdate, caller: Caller) -> None:
    """Record and post a stakeholder update."""
    scheduled = post_update(
        cmd,
        user_id=caller.user_id,
        channel_id=caller.room,
        **deps(rt),
    )
    rt.run_scheduled(scheduled)
    where = (
        "the war room" if scheduled.incident.private else f"the war room and #{rt.config.announce_channel}"
    )
    caller.reply(f":mega: Update for {scheduled.incident.ref} posted to {where}.")


def escalate_incident(rt: Runtime, cmd: Escalate, caller: Caller) -> None:
    """Check the named people and groups exist, expand the groups, then record and page."""
    for user in cmd.users:
        if not rt.chat.user_exists(user):
            raise UnknownTarget(f"I can't find <@{user}> in this workspace; nothing was changed.")
    paged = list(cmd.users)
    for group in cmd.groups:
        paged += rt.chat.group_members(group)
    scheduled = escalate(
        cmd,
        user_id=caller.user_id,
        channel_id=caller.room,
        paged_users=list(dict.fromkeys(paged)),
        **deps(rt),
        is_admin=rt.is_admin(caller.user_id) if cmd.severity else False,
    )
    rt.run_scheduled(scheduled)
    caller.reply(f":rotating_light: {scheduled.incident.ref} escalated.")


def share_postmortem(rt: Runtime, caller: Caller) -> None:
    """Upload a fresh postmortem draft of the room's incident, open or resolved."""
    scheduled = request_postmortem(
        user_id=caller.user_id,
        channel_id=caller.room,
        **deps(rt),
    )
    ref = scheduled.incident.ref
    if rt.run_job(scheduled.job_id):
        caller.reply(f":memo: The postmortem draft for {ref} is in the war room.")
    else:
        caller.reply(
            f":hourglass: Slack is slow; I will post the postmortem draft for {ref} here as soon as I can."
        )
