"""A new war room works from the moment people can see it, while Slack is still finishing its setup."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.scenario.conftest import Harness

PIN_DELAY = 4.0  # pins.add is Tier 2: a 429 or a slow answer keeps it busy for seconds or minutes


def wait_for(condition: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def room_people_see(h: Harness, user: str = "U1") -> str:
    """Declare, and return the room's id the instant its declarer is in it (pins.add still running)."""
    h.emu.set_latency(PIN_DELAY, "pins.add")
    h.command("declare sev2 Checkout is timing out", user=user, settle=False)

    def invited() -> str | None:
        room = next((c for c in h.emu.channels.values() if c.name.startswith("inc-1-")), None)
        return room.id if room is not None and user in room.members else None

    wait_for(invited)
    room = invited()
    assert room is not None
    return room


def test_commands_typed_the_instant_the_room_appears_work(harness: Harness) -> None:
    h = harness
    room = room_people_see(h)
    started = time.monotonic()
    h.command("note first responder here", channel=room, settle=False)
    h.command("update identified bad deploy, rolling back", channel=room, settle=False)
    h.command("assign commander <@U2>", channel=room, settle=False)

    # The update reaches the room while the pin is still outstanding: it does not wait behind it.
    def update_posted() -> bool:
        return any(
            (m.metadata or {}).get("event_type") == "incident_update" for m in h.emu.channels[room].messages
        )

    wait_for(update_posted, timeout=PIN_DELAY - 1)
    assert time.monotonic() - started < PIN_DELAY - 1
    h.settle()
    replies = " ".join(h.replies())
    assert "works inside an incident's war room" not in replies
    kinds = h.timeline_kinds(1)
    assert "note" in kinds and "update_posted" in kinds and "role_assigned" in kinds
    assert h.incident(1).status == "identified"
    assert len(h.emu.calls_to("pins.add")) == 1


def test_a_pushpin_the_instant_the_room_appears_is_recorded(harness: Harness) -> None:
    h = harness
    room = room_people_see(h)
    h.emu.channels[room].members.add("U3")
    ts = h.emu.post_as_user(room, "U3", "the primary is at 100% CPU")
    assert h.emu.react(h.url, user_id="U1", channel_id=room, ts=ts).status == 200
    h.settle()
    (pin,) = [e for e in h.timeline(1) if e.kind == "pinned"]
    assert pin.text == "the primary is at 100% CPU"


def test_the_room_is_recorded_before_the_rest_of_its_setup_finishes(harness: Harness) -> None:
    h = harness
    room = room_people_see(h)
    with h.bot.runtime.uow() as tx:
        incident = tx.incidents.get(1)
        assert incident is not None and incident.channel_id == room
        assert incident.provisioned_at is None  # the pin is still outstanding
    h.settle()
    assert h.incident(1).provisioned_at is not None


def test_the_last_room_step_to_land_lets_updates_go_even_when_it_is_not_a_post(harness: Harness) -> None:
    """The topic (recorded with nothing durable of its own) lands after the summary and announcement: the
    update must not wait for the stage's slow pin to hear that the room is ready."""
    h = harness
    h.emu.set_latency(0.5, "conversations.setTopic")
    room = room_people_see(h)
    started = time.monotonic()
    h.command("update identified bad deploy, rolling back", channel=room, settle=False)

    def update_posted() -> bool:
        return any(
            (m.metadata or {}).get("event_type") == "incident_update" for m in h.emu.channels[room].messages
        )

    wait_for(update_posted, timeout=PIN_DELAY - 1)
    assert time.monotonic() - started < PIN_DELAY - 1
    h.settle()
