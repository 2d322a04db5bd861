"""Interactions are rechecked, not trusted: a page's join button, and reminder buttons Slack sends again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from bot.ops.config import DEFAULT_SEVERITIES, IncidentConfig, SeverityConfig
from bot.slack.ids import ActionId
from tests.reliability import payloads
from tests.reliability.conftest import Rig, open_rig

RETRIES = (None, 1, 2, 3)  # the first delivery, then X-Slack-Retry-Num 1 to 3


def _join(r: Rig, user: str, value: str = "1") -> str:
    r.emu.click_button(
        r.url,
        user_id=user,
        channel_id=f"D0{user}",
        message_ts="1.0",
        action_id=ActionId.JOIN_ROOM,
        value=value,
    )
    r.settle()
    return r.replies()[-1]


def _invites(r: Rig, user: str) -> int:
    return len([c for c in r.emu.calls_to("conversations.invite") if user in c.args["users"].split(",")])


def test_join_button_lets_in_only_people_paged_for_that_open_incident(rig: Rig) -> None:
    r = rig
    r.command("declare sev2 Checkout is timing out")
    r.command("declare --private sev3 Payroll export")
    room, other = str(r.room(1).id), str(r.room(2).id)
    r.command("escalate <@U2|bob> <!subteam^S1|db-oncall>", channel=room)  # S1: U3, U4
    for user in ("U2", "U3"):
        r.emu.channels[room].members.discard(user)  # paged, then left

    # Not paged: the button's value is only a claim, and nothing changes.
    assert "You were not paged for that incident" in _join(r, "U5")
    assert "U5" not in r.emu.channels[room].members and _invites(r, "U5") == 0
    # Paged for another incident: not a key to this one (nor to a private one).
    assert "You were not paged for that incident" in _join(r, "U2", value="2")
    assert "U2" not in r.emu.channels[other].members
    assert "Payroll" not in r.replies()[-1]
    assert "That button does not point at an incident" in _join(r, "U2", value="99; DROP")

    # Paged by name or through a group: in they come.
    assert f"<#{room}>" in _join(r, "U2")
    assert f"<#{room}>" in _join(r, "U3")
    assert {"U2", "U3"} <= r.emu.channels[room].members

    # Resolved: the room takes no one new, even someone who was paged.
    r.command("assign commander <@U1|alice>", channel=room)
    r.command("resolve Rolled back", channel=room)
    r.emu.channels[room].members.discard("U2")
    before = _invites(r, "U2")
    assert _join(r, "U2") == "INC-1 is resolved, so its war room takes no one new."
    assert _invites(r, "U2") == before and "U2" not in r.emu.channels[room].members


@pytest.fixture
def two_replicas(db_url: str) -> Iterator[Rig]:
    """Two bots on one database; sev2 asks for a commander after 1 s and reminds every 2 s."""
    sev2 = SeverityConfig(
        description="Major", update_every=timedelta(seconds=2), commander_timeout=timedelta(seconds=1)
    )
    yield from open_rig(db_url, IncidentConfig(severities={**DEFAULT_SEVERITIES, "sev2": sev2}), replicas=2)


def _deliver(r: Rig, payload: dict[str, Any]) -> list[int]:
    """One interaction four times, alternating replicas, like Slack retrying a slow answer."""
    statuses = []
    for n, retry in enumerate(RETRIES):
        statuses.append(r.emu.send_interaction(r.replicas[n % 2].url, payload, retry_num=retry).status)
    r.settle()
    return statuses


def _posted(r: Rig, room: str, event_type: str) -> Any:
    def found() -> bool:
        return any((m.metadata or {}).get("event_type") == event_type for m in r.emu.channels[room].messages)

    r.tick_until(found)
    return next(
        m for m in r.emu.channels[room].messages if (m.metadata or {}).get("event_type") == event_type
    )


def test_retried_reminder_buttons_act_once_across_replicas(two_replicas: Rig) -> None:
    r = two_replicas
    r.command("declare sev2 Checkout is timing out")
    room = str(r.room(1).id)
    reminder = _posted(r, room, "incident_update_reminder")
    ask = _posted(r, room, "incident_commander_reminder")

    def click(action_id: str, value: str, message: Any) -> dict[str, Any]:
        return payloads.block_action(
            r.emu, user="U2", channel=room, message_ts=message.ts, action_id=action_id, value=value
        )

    replies = len(r.replies())
    assert _deliver(r, click(f"{ActionId.SNOOZE}_1h", "1h", reminder)) == [200] * 4
    assert r.timeline_kinds(1).count("reminder_snoozed") == 1
    assert _deliver(r, click(ActionId.TAKE_COMMAND, "1", ask)) == [200] * 4
    assert r.timeline_kinds(1).count("role_assigned") == 1
    briefings = [c for c in r.emu.calls_to("chat.postMessage") if c.args.get("channel") == "U2"]
    assert len(briefings) == 1
    said = r.replies()[replies:]
    assert len([t for t in said if "snoozed until" in t]) == 1
    assert said.count(":bust_in_silhouette: <@U2> is now commander for INC-1.") == 1
    assert len(said) == 2, said

    opened = len(r.emu.calls_to("views.open"))
    _deliver(r, click(ActionId.REMINDER_UPDATE, "1", reminder))
    assert len(r.emu.calls_to("views.open")) == opened + 1
