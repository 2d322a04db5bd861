"""Postmortem facts from a controlled clock: milestones, durations and whether updates kept the cadence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.ops.config import IncidentConfig
from commands.action import add_action_item
from commands.assign import assign_role
from commands.errors import UsageError
from commands.escalate import escalate
from commands.parsing import (
    AddActionItem,
    Assign,
    Declare,
    Escalate,
    Postmortem,
    PostUpdate,
    Resolve,
    help_text,
    parse,
)
from commands.postmortem import load_postmortem, readable
from commands.resolve import resolve_incident
from commands.update import post_update
from store.uow import SqlUnitOfWorkFactory
from tests.declare_one import declare_incident

START = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
ROOM = "C1"
CONFIG = IncidentConfig()  # sev1 every 15m, sev2 every 30m, sev3 every 1h


class Clock:
    def __init__(self) -> None:
        self.at = START

    def now(self) -> datetime:
        return self.at

    def to(self, minutes: float) -> None:
        self.at = START + timedelta(minutes=minutes)


def declared(uow: SqlUnitOfWorkFactory, clock: Clock, severity: str = "sev2") -> None:
    declare_incident(
        Declare(title="Checkout is timing out", severity=severity),
        user_id="U1",
        channel_id="CGENERAL",
        uow=uow,
        clock=clock,
        settings=CONFIG,
        lease=LEASE,
    )
    with uow() as tx:
        incident = tx.incidents.get(1)
        assert incident is not None
        incident.channel_id, incident.channel_name = ROOM, "inc-1-checkout"
        tx.commit()


def update(
    uow: SqlUnitOfWorkFactory, clock: Clock, minutes: float, text: str, status: str | None = None
) -> None:
    clock.to(minutes)
    post_update(
        PostUpdate(message=text, status=status),
        user_id="U2",
        channel_id=ROOM,
        uow=uow,
        clock=clock,
        settings=CONFIG,
        lease=LEASE,
    )


def raise_to(uow: SqlUnitOfWorkFactory, clock: Clock, minutes: float, severity: str) -> None:
    clock.to(minutes)
    escalate(
        Escalate(severity=severity),
        user_id="U1",
        channel_id=ROOM,
        paged_users=[],
        uow=uow,
        clock=clock,
        settings=CONFIG,
        lease=LEASE,
    )


def assign(
    uow: SqlUnitOfWorkFactory, clock: Clock, minutes: float, role: str, user: str, by: str = "U1"
) -> None:
    clock.to(minutes)
    assign_role(
        Assign(role=role, user_id=user),
        user_id=by,
        channel_id=ROOM,
        uow=uow,
        clock=clock,
        settings=CONFIG,
        lease=LEASE,
    )


def resolve(uow: SqlUnitOfWorkFactory, clock: Clock, minutes: float) -> None:
    clock.to(minutes)
    resolve_incident(
        Resolve(summary="Rolled back"),
        user_id="U1",
        channel_id=ROOM,
        uow=uow,
        clock=clock,
        settings=CONFIG,
        lease=LEASE,
    )


def test_milestones_and_durations(uow_factory: SqlUnitOfWorkFactory) -> None:
    uow, clock = uow_factory, Clock()
    declared(uow, clock)
    pm = load_postmortem(1, uow=uow, settings=CONFIG)
    assert pm is not None
    assert pm.milestones.acknowledged is None and pm.durations.to_acknowledge is None
    assert pm.durations.to_resolve is None, "an open incident has no time to resolve"

    assign(uow, clock, 4, "comms", "U2")
    assign(uow, clock, 7, "commander", "U3")
    assign(uow, clock, 20, "commander", "U1", by="U3")  # a handover is not a second acknowledgement
    update(uow, clock, 25, "Rolling back", "identified")
    update(uow, clock, 50, "Rollback done", "monitoring")
    update(uow, clock, 60, "Still fine", "identified")
    update(uow, clock, 70, "Fine again", "monitoring")  # mitigated is the *first* monitoring
    resolve(uow, clock, 95)

    pm = load_postmortem(1, uow=uow, settings=CONFIG)
    assert pm is not None
    assert pm.milestones.acknowledged == START + timedelta(minutes=7)
    assert pm.milestones.mitigated == START + timedelta(minutes=50)
    assert pm.milestones.resolved == START + timedelta(minutes=95)
    assert pm.durations.to_acknowledge == timedelta(minutes=7)
    assert pm.durations.to_mitigate == timedelta(minutes=50)
    assert pm.durations.to_resolve == timedelta(minutes=95)
    assert pm.durations.mitigated_to_resolved == timedelta(minutes=45)
    assert [(r.role, r.user, r.ended_at is not None) for r in pm.roles] == [
        ("comms", "U2", False),
        ("commander", "U3", True),
        ("commander", "U1", False),
    ]
    assert pm.participants == ("U1", "U2", "U3")


def test_cadence_matches_the_reminders_due_times(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    uow, clock = uow_factory, Clock()
    declared(uow, clock, "sev2")  # owed within 30m
    assign(uow, clock, 0, "commander", "U1")
    update(uow, clock, 30, "exactly on the deadline")  # within: no later than the cadence
    raise_to(uow, clock, 40, "sev1")  # the sev1 cadence runs from the change: owed by 55
    update(uow, clock, 58, "late after the escalation")
    update(uow, clock, 74, "a minute late at sev1")  # owed by 58 + 15 = 73
    raise_to(uow, clock, 80, "sev3")  # owed by 80 + 60 = 140
    update(uow, clock, 88, "on time at sev3")
    update(uow, clock, 140, "on time again")  # owed by 88 + 60 = 148

    pm = load_postmortem(1, uow=uow, settings=CONFIG)
    assert pm is not None
    assert [(u.text, u.within_cadence) for u in pm.updates] == [
        ("exactly on the deadline", True),
        ("late after the escalation", False),
        ("a minute late at sev1", False),
        ("on time at sev3", True),
        ("on time again", True),
    ]
    assert [u.due_by - START for u in pm.updates] == [timedelta(minutes=m) for m in (30, 55, 73, 140, 148)]
    assert pm.updates_within_cadence == 3
    assert [(p.severity, p.since - START) for p in pm.severity_history] == [
        ("sev2", timedelta(0)),
        ("sev1", timedelta(minutes=40)),
        ("sev3", timedelta(minutes=80)),
    ]
    assert pm.initial_severity == "sev2" and pm.severity == "sev3"


def test_action_items_after_resolve_are_in_the_data(uow_factory: SqlUnitOfWorkFactory) -> None:
    uow, clock = uow_factory, Clock()
    declared(uow, clock)
    assign(uow, clock, 1, "commander", "U1")
    resolve(uow, clock, 30)
    clock.to(60 * 24)
    add_action_item(
        AddActionItem(text="Alert on pool size", owner="U4"),
        user_id="U2",
        channel_id=ROOM,
        uow=uow,
        clock=clock,
        settings=CONFIG,
    )
    pm = load_postmortem(1, uow=uow, settings=CONFIG)
    assert pm is not None
    (item,) = pm.action_items
    assert (item.text, item.owner, item.created_by) == ("Alert on pool size", "U4", "U2")
    assert "U4" in pm.participants
    assert (
        pm.timeline[-1].kind == "action_item" and pm.timeline[-1].readable == "Alert on pool size (owner @U4)"
    )


def test_unknown_incident_is_none(uow_factory: SqlUnitOfWorkFactory) -> None:
    assert load_postmortem(42, uow=uow_factory, settings=CONFIG) is None


def test_readable_text_unwraps_slack_markup_only_where_slack_wrote_it() -> None:
    assert readable("Commander: <@U2> (was <@U1|alice>)") == "Commander: @U2 (was @alice)"
    assert readable("paged <!subteam^S1>") == "paged @S1"
    assert readable("a <b> & c") == "a <b> & c", "typed text is stored plain and kept as typed"
    pinned = "see <https://x.io|the graph> &lt;b&gt; <#C1|ops>\nnext line"
    assert readable(pinned, slack_markup=True) == "see the graph (https://x.io) <b> #ops\nnext line"


def test_postmortem_command_parses_and_is_in_the_help() -> None:
    assert parse("postmortem", severities=CONFIG.severity_names()) == Postmortem()
    with pytest.raises(UsageError, match="not something a postmortem has"):
        parse("postmortem now please", severities=CONFIG.severity_names())
    assert "/incident postmortem" in help_text()
