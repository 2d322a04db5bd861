"""Paging over HTTP against the strict emulator: `/incident page`, the DM's *Acknowledge*, timeouts in the
tick, a pager outage, a drill and resolving, with a clock the test moves and a recording pager."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.ops.config import config_from_mapping
from bot.slack.ids import ActionId
from tests.scenario.conftest import FakeClock, Harness
from tests.unit.fakes import RecordingPager

CONFIG = config_from_mapping(
    {
        "escalation_policies": {
            "payments": {
                "tiers": [
                    {"notify": ["U2", "pagerduty:payments"], "ack_within": "5m"},
                    {"notify": ["S1"], "ack_within": "10m"},
                ]
            }
        },
        "severities": {
            "sev1": {"update_every": "15m", "page": "payments"},
            "sev2": {"update_every": "30m"},
        },
    }
)
PAGED = "incident_paged"


@pytest.fixture
def paging(configured_harness: Callable[..., Harness]) -> tuple[Harness, FakeClock, RecordingPager]:
    clock, pager = FakeClock(), RecordingPager()
    return configured_harness(CONFIG, clock, pager), clock, pager


def room_texts(h: Harness, room: str) -> list[str]:
    return [m.text for m in h.emu.channels[room].messages]


def page_posts(h: Harness, room: str) -> list[str]:
    messages = h.emu.channels[room].messages
    return [m.text for m in messages if (m.metadata or {}).get("event_type") == "incident_page"]


def dm_of(h: Harness, user: str) -> Any:
    return next(c for c in h.emu.channels.values() if c.is_im and user in c.members)


def press(h: Harness, user: str, action: str, value: str) -> None:
    dm = dm_of(h, user)
    h.emu.click_button(
        h.url, user_id=user, channel_id=dm.id, message_ts=dm.messages[-1].ts, action_id=action, value=value
    )
    h.settle()


def tick(h: Harness, clock: FakeClock, **delta: float) -> None:
    clock.advance(**delta)
    h.bot.runtime.tick()
    h.settle()


def declared(h: Harness, text: str = "declare sev2 Checkout is timing out") -> str:
    h.command(text)
    return str(h.room(1).id)


def test_page_a_policy_escalate_on_timeout_and_acknowledge_from_the_dm(
    paging: tuple[Harness, FakeClock, RecordingPager],
) -> None:
    h, clock, pager = paging
    room = declared(h)
    h.command("page payments", channel=room)
    assert h.replies()[-1] == ":rotating_light: Paged *payments* for INC-1."
    (page,) = h.dms_to("U2")
    assert page.args["metadata"]["event_type"] == PAGED
    ack, join = page.args["blocks"][-1]["elements"]
    assert (ack["action_id"], join["action_id"], join["value"]) == (
        ActionId.ACK_PAGE,
        ActionId.JOIN_ROOM,
        "1",
    )
    assert [(v, t) for v, t, _ in pager.calls] == [("trigger", "pagerduty:payments")]
    assert "<@U1> paged *payments*, tier 1 (<@U2>, `pagerduty:payments`)" in room_texts(h, room)

    tick(h, clock, minutes=4)
    assert h.dms_to("U3") == []
    tick(h, clock, minutes=1, seconds=1)
    assert (
        "No acknowledgement from <@U2>, `pagerduty:payments` in 5m: paging tier 2 (<!subteam^S1>)"
        in room_texts(h, room)
    )
    assert len(h.dms_to("U3")) == len(h.dms_to("U4")) == 1
    h.emu.channels[room].members.discard("U3")
    press(h, "U3", ActionId.JOIN_ROOM, "1")  # paged as a member of the tier's group
    assert "U3" in h.emu.channels[room].members

    press(h, "U2", ActionId.ACK_PAGE, ack["value"])  # bob answers late: the tier-1 page is still his
    assert h.replies()[-1] == ":white_check_mark: You acknowledged the page for INC-1."
    assert ":white_check_mark: <@U2> acknowledged the page of *payments* (tier 1)" in room_texts(h, room)
    assert ("acknowledge", "pagerduty:payments", "incidentbot-inc-1-payments") in pager.calls
    updated = [c for c in h.emu.calls_to("chat.update") if c.args["channel"] == dm_of(h, "U2").id]
    assert updated and "Acknowledged" in updated[-1].args["text"]
    assert h.incident(1).acknowledged_at is not None

    press(h, "U3", ActionId.ACK_PAGE, h.dms_to("U3")[0].args["blocks"][-1]["elements"][0]["value"])
    assert "<@U2> already acknowledged this page of INC-1; nothing was changed." in h.replies()[-1]
    posted = page_posts(h, room)
    tick(h, clock, minutes=30)
    assert page_posts(h, room) == posted, "nothing more once acknowledged"
    assert h.timeline_kinds(1).count("page_acknowledged") == 1


def test_someone_not_paged_cannot_acknowledge_and_an_unknown_policy_changes_nothing(
    paging: tuple[Harness, FakeClock, RecordingPager],
) -> None:
    h, _clock, _pager = paging
    room = declared(h)
    h.command("page nope", channel=room)
    assert "`nope` is not an escalation policy (configured: `payments`)" in h.replies()[-1]
    h.command("page <@U2|bob>", channel=room)
    value = h.dms_to("U2")[0].args["blocks"][-1]["elements"][0]["value"]
    h.emu.click_button(
        h.url, user_id="U4", channel_id=room, message_ts="1.0", action_id=ActionId.ACK_PAGE, value=value
    )
    h.settle()
    assert "was not sent to you" in h.replies()[-1]
    assert "page_acknowledged" not in h.timeline_kinds(1)


def test_a_paging_severity_pages_at_declaration_and_resolving_resolves_the_alert(
    paging: tuple[Harness, FakeClock, RecordingPager],
) -> None:
    h, _clock, pager = paging
    room = declared(h, "declare sev1 Payments are down")
    assert len(h.dms_to("U2")) == 1
    assert pager.calls == [("trigger", "pagerduty:payments", "incidentbot-inc-1-payments")]
    assert any("Declared sev1: paging *payments*" in t for t in room_texts(h, room))
    h.command("assign commander <@U1|alice>", channel=room)
    h.command("resolve", channel=room)
    assert pager.calls[-1] == ("resolve", "pagerduty:payments", "incidentbot-inc-1-payments")


def test_a_pager_outage_tells_the_room_once_and_the_retry_pages(
    paging: tuple[Harness, FakeClock, RecordingPager],
) -> None:
    h, clock, pager = paging
    room = declared(h)
    pager.down = True
    h.command("page payments", channel=room)
    assert len(h.dms_to("U2")) == 1, "the DM goes out whatever the pager does"
    down = ":warning: `pagerduty:payments` did not answer; I will keep trying to trigger the page."
    assert room_texts(h, room).count(down) == 1
    tick(h, clock, seconds=2)
    assert room_texts(h, room).count(down) == 1
    pager.down = False
    tick(h, clock, seconds=5)
    assert ":white_check_mark: `pagerduty:payments` answered: the page went through." in room_texts(h, room)
    assert pager.calls == [("trigger", "pagerduty:payments", "incidentbot-inc-1-payments")]


def test_a_drill_never_pages(paging: tuple[Harness, FakeClock, RecordingPager]) -> None:
    h, _clock, pager = paging
    room = declared(h, "declare --drill sev1 Practice outage")
    h.command("page payments <@U3|carol>", channel=room)
    assert h.replies()[-1] == ":test_tube: INC-1 is a drill, so nobody was paged."
    assert h.dms_to("U2") == h.dms_to("U3") == [] and pager.calls == []
    assert h.timeline_kinds(1).count("page_skipped") == 2
