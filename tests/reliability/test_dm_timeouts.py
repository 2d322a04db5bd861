"""A DM that reached Slack but whose answer timed out is found on the retry, not sent again."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from tests.reliability.conftest import Rig


def dms(rig: Rig, event_type: str) -> Counter[str]:
    """Messages the bot left in each person's DM, by person (what they see, not what was attempted)."""
    seen: Counter[str] = Counter()
    for channel in rig.emu.channels.values():
        if channel.is_im:
            person = next(m for m in channel.members if m != rig.emu.bot_user_id)
            seen[person] += sum(
                1 for m in channel.messages if (m.metadata or {}).get("event_type") == event_type
            )
    return +seen  # people with none are left out


def test_timed_out_pages_and_briefings_are_delivered_once(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(client_timeout=1)
    rig.command("declare sev2 Checkout is timing out")
    room = rig.room(1).id
    rig.emu.set_latency(1.5, "chat.postMessage")  # Slack posts, but answers after the client gave up
    rig.command("escalate <@U3|carol> <@U4|dave>", channel=room, user="U2")
    rig.command("assign comms <@U5|eve>", channel=room, user="U2")
    rig.emu.clear_faults()
    rig.tick_until(lambda: rig.pending_jobs() == 0, seconds=30)
    assert dms(rig, "incident_paged") == {"U3": 1, "U4": 1}
    assert dms(rig, "incident_role_assigned") == {"U5": 1}
