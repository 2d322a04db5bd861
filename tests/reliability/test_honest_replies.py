"""A confirmation says only what happened: posted, still on its way, or not possible."""

from __future__ import annotations

from tests.reliability.conftest import Rig


def test_an_update_slack_fails_is_not_confirmed_as_posted(rig: Rig) -> None:
    rig.command("declare sev2 Checkout is timing out")
    room = rig.room(1).id
    rig.emu.fail("chat.postMessage", status=503, times=None)
    rig.command("update identified bad deploy", channel=room)
    reply = rig.replies()[-1]
    assert "posted to" not in reply
    assert "recorded; it is not in the war room and #incidents yet" in reply
    rig.emu.clear_faults()
    rig.tick_until(lambda: rig.pending_jobs() == 0)
    assert "bad deploy" in rig.emu.channels[room].messages[-1].text


def test_an_update_slack_refuses_says_so_and_the_room_is_told(rig: Rig) -> None:
    rig.command("declare sev2 Checkout is timing out")
    room = rig.room(1).id
    rig.emu.error("chat.postMessage", "restricted_action", times=2)
    rig.command("update identified bad deploy", channel=room)
    assert "recorded on the timeline, but I could not post it" in rig.replies()[-1]
    told = [c.args["text"] for c in rig.emu.calls_to("chat.postEphemeral")]
    assert any("I could not post the update for INC-1" in t and "ask a Slack admin" in t for t in told), told
    in_room = [m.text for m in rig.emu.channels[room].messages]
    assert any("I could not post the update for INC-1" in t for t in in_room), "the room is told too"
    assert rig.pending_jobs() == 0
