"""Run a parsed command after the ack: call the domain action, start its Slack work, and reply."""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import Reply, reporting
from bot.mrkdwn import channel_link, escape
from bot.runtime import Runtime
from commands import incidents
from commands.parsing import Command, Declare, Help, ListOpen, OpenDeclareForm, Resolve, Status, help_text


@dataclass(frozen=True)
class Caller:
    """Who sent the command, from where, and how to answer only them."""

    user_id: str
    channel_id: str | None
    reply: Reply


def perform(rt: Runtime, cmd: Command, caller: Caller) -> None:
    """Dispatch one command; every failure becomes a reply through the error-mapping place."""
    with reporting(caller.reply, type(cmd).__name__):
        if isinstance(cmd, Declare):
            declare(rt, cmd, caller)
        elif isinstance(cmd, Status):
            view = incidents.incident_status(
                channel_id=caller.channel_id or "", uow=rt.uow, settings=rt.config
            )
            caller.reply(rt.presenter.status_reply(view))
        elif isinstance(cmd, ListOpen):
            caller.reply(rt.presenter.list_reply(incidents.list_open_incidents(uow=rt.uow)))
        elif isinstance(cmd, Resolve):
            resolve(rt, cmd, caller)
        elif isinstance(cmd, Help | OpenDeclareForm):
            caller.reply(help_text())


def declare(rt: Runtime, cmd: Declare, caller: Caller, description: str = "") -> None:
    """Record the incident, provision its room now, and tell the declarer where it is."""
    scheduled = incidents.declare_incident(
        cmd,
        user_id=caller.user_id,
        channel_id=caller.channel_id,
        uow=rt.uow,
        clock=rt.clock,
        settings=rt.config,
        lease=rt.lease,
        description=description,
    )
    ref = scheduled.incident.ref
    if rt.runner.run(scheduled.job_id, claimed=True):
        with rt.uow() as tx:
            incident = tx.incidents.get(scheduled.incident.id)
            room = channel_link(incident.channel_id if incident else None)
        caller.reply(f":rotating_light: Declared *{ref}*: {escape(cmd.title)}. War room: {room}")
    else:
        caller.reply(
            f":hourglass: *{ref}* is recorded. Slack is slow to set up its war room; "
            "I will keep trying and invite you as soon as it exists."
        )


def resolve(rt: Runtime, cmd: Resolve, caller: Caller) -> None:
    """Resolve the room's incident and post the resolution."""
    scheduled = incidents.resolve_incident(
        cmd,
        user_id=caller.user_id,
        channel_id=caller.channel_id or "",
        uow=rt.uow,
        clock=rt.clock,
        settings=rt.config,
        lease=rt.lease,
    )
    rt.runner.run(scheduled.job_id, claimed=True)
