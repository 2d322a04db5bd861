"""Role changes are told to the whole room, not only to the person who typed them and the assignee."""

from __future__ import annotations

from typing import Any

from tests.scenario.conftest import Harness


def role_posts(h: Harness, room: str) -> list[Any]:
    return [
        m
        for m in h.emu.channels[room].messages
        if (m.metadata or {}).get("event_type") == "incident_role_assigned"
    ]


def test_assignment_and_handover_are_posted_in_the_room(harness: Harness) -> None:
    h = harness
    h.command("declare sev2 Checkout is timing out")
    room = h.room(1).id
    h.command("assign commander <@U1>", channel=room)
    h.command("assign commander <@U2>", channel=room)
    first, second = role_posts(h, room)
    assert first.text == ":bust_in_silhouette: <@U1> is now *commander*, assigned by <@U1>."
    assert second.text == (":bust_in_silhouette: <@U2> is now *commander* (was <@U1>), assigned by <@U1>.")
    payload = second.metadata["event_payload"]
    assert payload["incident"] == "INC-1" and payload["incident_id"] == 1


def test_assigning_the_same_holder_again_posts_nothing_new(harness: Harness) -> None:
    h = harness
    h.command("declare sev2 Checkout is timing out")
    room = h.room(1).id
    h.command("assign comms <@U3>", channel=room)
    h.command("assign comms <@U3>", channel=room)
    assert len(role_posts(h, room)) == 1
