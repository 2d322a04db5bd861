"""Inviting several people at once: Slack refuses the whole batch for one person already in the room."""

from __future__ import annotations

from tests.reliability.conftest import Rig


def test_paging_a_group_after_one_member_joined_invites_all_the_others(rig: Rig) -> None:
    rig.command("declare sev2 Checkout is timing out")
    room = rig.room(1).id
    rig.emu.channels[room].members.add("U3")  # one of @db-oncall (U3, U4) joined by themselves
    rig.command("escalate <!subteam^S1|db-oncall> <@U5>", channel=room)
    assert {"U3", "U4", "U5"} <= rig.emu.channels[room].members
    assert rig.pending_jobs() == 0
    invites = rig.emu.calls_to("conversations.invite")
    assert all(str(c.args.get("force")).lower() in ("1", "true") for c in invites)


def test_a_guest_who_cannot_be_invited_does_not_keep_the_others_out(rig: Rig) -> None:
    rig.command("declare sev2 Checkout is timing out")
    room = rig.room(1).id
    rig.emu.channels[room].members.add("U3")
    rig.command("escalate <@U3> <@U4> <@U5>", channel=room)
    assert {"U3", "U4", "U5"} <= rig.emu.channels[room].members
    paged = [
        c.args["channel"] for c in rig.emu.calls_to("chat.postMessage") if c.args["channel"] in {"U4", "U5"}
    ]
    assert sorted(paged) == ["U4", "U5"]
