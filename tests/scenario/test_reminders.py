"""Reminder policy with a controlled clock: cadence, reset, snooze, resolve, severity change, escalation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.ops.config import IncidentConfig
from bot.slack.ids import ActionId
from commands.reminders import escalates, reminder_target
from tests.scenario.conftest import FakeClock, Harness

REMINDER = "incident_update_reminder"


@pytest.fixture
def clocked(configured_harness: Callable[..., Harness]) -> tuple[Harness, FakeClock]:
    clock = FakeClock()
    return configured_harness(IncidentConfig(), clock), clock


def reminders(h: Harness, channel: str) -> list[Any]:
    return [m for m in h.emu.channels[channel].messages if (m.metadata or {}).get("event_type") == REMINDER]


def tick(h: Harness, clock: FakeClock, **delta: float) -> None:
    clock.advance(**delta)
    h.bot.runtime.tick()
    h.settle()


def test_target_and_escalation_rules() -> None:
    assert reminder_target({"comms": "U2", "commander": "U3"}, "U1") == "U2"
    assert reminder_target({"commander": "U3"}, "U1") == "U3"
    assert reminder_target({}, "U1") == "U1"
    assert [escalates(n, 2) for n in range(1, 6)] == [False, True, False, True, False]
    assert [escalates(n, 1) for n in range(1, 3)] == [True, True]


def test_cadence_repeats_until_an_update_resets_the_clock(clocked: tuple[Harness, FakeClock]) -> None:
    h, clock = clocked
    h.command("declare sev2 Checkout is timing out")  # sev2: every 30 minutes
    room = h.room(1).id
    tick(h, clock, minutes=29)
    assert reminders(h, room) == []
    tick(h, clock, minutes=1, seconds=1)
    (first,) = reminders(h, room)
    assert "<@U1>" in first.text, "no roles yet: the declarer is nudged"
    buttons = [e["action_id"] for e in first.blocks[-1]["elements"]]
    assert buttons == [
        ActionId.REMINDER_UPDATE,
        "reminder_snooze_15m",
        "reminder_snooze_30m",
        "reminder_snooze_1h",
    ]
    tick(h, clock, minutes=1)
    assert len(reminders(h, room)) == 1, "one reminder per period"
    tick(h, clock, minutes=30)
    assert len(reminders(h, room)) == 2

    h.command("update Still investigating", channel=room)
    tick(h, clock, minutes=29)
    assert len(reminders(h, room)) == 2, "the update reset the clock"
    tick(h, clock, minutes=2)
    assert len(reminders(h, room)) == 3


def test_reminder_mentions_comms_then_commander(clocked: tuple[Harness, FakeClock]) -> None:
    h, clock = clocked
    h.command("declare sev1 API down")  # sev1: every 15 minutes
    room = h.room(1).id
    h.command("assign commander <@U3|carol>", channel=room)
    tick(h, clock, minutes=16)
    assert "<@U3>" in reminders(h, room)[-1].text
    h.command("assign comms <@U2|bob>", channel=room)
    tick(h, clock, minutes=16)
    assert "<@U2>" in reminders(h, room)[-1].text


def test_two_reminders_in_a_row_escalate_the_nudge(clocked: tuple[Harness, FakeClock]) -> None:
    h, clock = clocked
    h.command("declare sev1 API down")
    room = h.room(1).id
    h.command("assign commander <@U3|carol>", channel=room)
    h.command("assign comms <@U2|bob>", channel=room)
    announce_before = len(h.emu.channels[h.announce].messages)
    dms_before = len(h.dms_to("U2")) + len(h.dms_to("U3"))
    tick(h, clock, minutes=16)
    assert len(h.dms_to("U2")) + len(h.dms_to("U3")) == dms_before
    tick(h, clock, minutes=16)
    overdue = [
        c
        for c in h.dms_to("U2") + h.dms_to("U3")
        if c.args["metadata"]["event_type"] == "incident_update_overdue"
    ]
    assert {c.args["channel"] for c in overdue} == {"U2", "U3"}
    announced = h.emu.channels[h.announce].messages[announce_before:]
    assert len(announced) == 1 and "update overdue" in announced[0].text


def test_private_incident_overdue_stays_out_of_announce(clocked: tuple[Harness, FakeClock]) -> None:
    h, clock = clocked
    h.command("declare --private sev1 Payroll leak")
    before = len(h.emu.channels[h.announce].messages)
    tick(h, clock, minutes=16)
    tick(h, clock, minutes=16)
    assert len(h.emu.channels[h.announce].messages) == before


def test_snooze_moves_the_next_reminder(clocked: tuple[Harness, FakeClock]) -> None:
    h, clock = clocked
    h.command("declare sev1 API down")
    room = h.room(1).id
    tick(h, clock, minutes=16)
    (first,) = reminders(h, room)
    h.emu.click_button(
        h.url, user_id="U2", channel_id=room, message_ts=first.ts, action_id="reminder_snooze_1h", value="1h"
    )
    h.settle()
    assert "snoozed until" in h.replies()[-1]
    tick(h, clock, minutes=59)
    assert len(reminders(h, room)) == 1
    tick(h, clock, minutes=2)
    assert len(reminders(h, room)) == 2
    assert "reminder_snoozed" in h.timeline_kinds(1)


def test_resolve_stops_and_severity_change_applies_new_cadence(clocked: tuple[Harness, FakeClock]) -> None:
    h, clock = clocked
    h.command("declare sev4 Slow admin page")  # sev4: every 4 hours
    room = h.room(1).id
    tick(h, clock, hours=1)
    h.command("escalate sev1", channel=room)  # now every 15 minutes, counted from now
    tick(h, clock, minutes=14)
    assert reminders(h, room) == []
    tick(h, clock, minutes=2)
    assert len(reminders(h, room)) == 1
    h.command("assign commander <@U1|alice>", channel=room)
    h.command("resolve", channel=room)
    tick(h, clock, hours=5)
    assert len(reminders(h, room)) == 1


def test_post_update_button_opens_the_update_modal(clocked: tuple[Harness, FakeClock]) -> None:
    h, clock = clocked
    h.command("declare sev1 API down")
    room = h.room(1).id
    tick(h, clock, minutes=16)
    (first,) = reminders(h, room)
    h.emu.click_button(
        h.url,
        user_id="U1",
        channel_id=room,
        message_ts=first.ts,
        action_id=ActionId.REMINDER_UPDATE,
        value="1",
    )
    h.settle()
    (opened,) = h.emu.calls_to("views.open")
    assert opened.args["view"]["callback_id"] == "post_update_modal"


def test_no_commander_after_timeout_asks_once_and_ill_take_it_assigns(
    clocked: tuple[Harness, FakeClock],
) -> None:
    h, clock = clocked
    h.command("declare sev4 Slow admin page")
    room = h.room(1).id
    tick(h, clock, minutes=9)
    asks = [m for m in h.emu.channels[room].messages if "no commander" in m.text]
    assert asks == []
    tick(h, clock, minutes=2)
    (ask,) = [m for m in h.emu.channels[room].messages if "no commander" in m.text]
    assert ask.metadata["event_type"] == "incident_commander_reminder"
    tick(h, clock, minutes=30)
    assert len([m for m in h.emu.channels[room].messages if "no commander" in m.text]) == 1
    h.emu.click_button(
        h.url, user_id="U2", channel_id=room, message_ts=ask.ts, action_id=ActionId.TAKE_COMMAND, value="1"
    )
    h.settle()
    assert "*Commander:* <@U2>" in h.emu.channels[room].messages[0].text


def test_commander_assigned_in_time_means_no_ask(clocked: tuple[Harness, FakeClock]) -> None:
    h, clock = clocked
    h.command("declare sev4 Slow admin page")
    room = h.room(1).id
    h.command("assign commander <@U1|alice>", channel=room)
    tick(h, clock, minutes=11)
    assert not [m for m in h.emu.channels[room].messages if "no commander" in m.text]


def test_per_severity_timings_are_configurable(configured_harness: Callable[..., Harness]) -> None:
    from datetime import timedelta

    from bot.ops.config import SeverityConfig

    clock = FakeClock()
    config = IncidentConfig(
        severities={
            "p1": SeverityConfig(
                description="Outage",
                update_every=timedelta(minutes=5),
                escalate_after=1,
                commander_timeout=timedelta(minutes=2),
            )
        }
    )
    h = configured_harness(config, clock)
    h.command("declare p1 Everything down")
    room = h.room(1).id
    tick(h, clock, minutes=3)
    assert [m for m in h.emu.channels[room].messages if "no commander" in m.text]
    tick(h, clock, minutes=3)
    assert len(reminders(h, room)) == 1
    assert any("update overdue" in m.text for m in h.emu.channels[h.announce].messages)
