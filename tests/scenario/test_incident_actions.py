"""Roles, stakeholder updates and escalation, driven over HTTP against the Slack emulator."""

from __future__ import annotations

from bot.ops.config import IncidentConfig
from bot.slack.ids import ActionId, BlockId
from tests.scenario.conftest import Harness


def declared(h: Harness, text: str = "declare sev2 Checkout is timing out") -> str:
    h.command(text)
    return str(h.room(1).id)


def test_assign_invites_briefs_and_updates_the_summary_with_handover(harness: Harness) -> None:
    h = harness
    room = declared(h)
    h.command("assign commander <@U2|bob>", channel=room)
    assert "U2" in h.emu.channels[room].members
    (briefing,) = h.dms_to("U2")
    assert "commander" in briefing.args["text"] and "Leads the response" in briefing.args["text"]
    assert f"<#{room}>" in briefing.args["text"]
    assert briefing.args["metadata"]["event_type"] == "incident_role_assigned"
    summary = h.emu.channels[room].messages[0]
    assert "*Commander:* <@U2>" in summary.text
    assert "is now commander" in h.replies()[-1]

    h.command("assign commander <@U3|carol>", channel=room, user="U2")
    summary = h.emu.channels[room].messages[0]
    assert "*Commander:* <@U3> (was <@U2>)" in summary.text
    events = [e for e in h.timeline(1) if e.kind == "role_assigned"]
    assert [e.data["user"] for e in events] == ["U2", "U3"] and events[1].data["previous"] == "U2"
    assert len(h.emu.calls_to("chat.update")) == 2, "the pinned summary is edited in place, not reposted"

    h.command("assign scribe <@U3|carol>", channel=room)
    summary = h.emu.channels[room].messages[0]
    assert "*Commander:* <@U3>" in summary.text and "*Scribe:* <@U3>" in summary.text


def test_assign_bad_input_changes_nothing(harness: Harness) -> None:
    h = harness
    room = declared(h)
    unknown_role = h.command("assign captain <@U2|bob>", channel=room).json()["text"]
    assert "Unknown role `captain`" in unknown_role and "commander, comms, scribe, ops" in unknown_role
    assert "is not a person" in h.command("assign comms bob", channel=room).json()["text"]
    h.command("assign comms <@U999|ghost>", channel=room)
    assert "can't find <@U999>" in h.replies()[-1]
    h.command("assign comms <@U2|bob>")
    assert "works inside an incident's war room" in h.replies()[-1]
    assert "role_assigned" not in h.timeline_kinds(1)
    assert h.emu.calls_to("chat.update") == []


def test_assign_button_opens_a_modal_whose_submission_assigns(harness: Harness) -> None:
    h = harness
    room = declared(h)
    summary = h.emu.channels[room].messages[0]
    h.emu.click_button(
        h.url, user_id="U1", channel_id=room, message_ts=summary.ts, action_id=ActionId.OPEN_ASSIGN, value="1"
    )
    h.settle()
    view_id = next(iter(h.emu.views))
    values = {
        BlockId.ROLE: {ActionId.ROLE: {"type": "static_select", "selected_option": {"value": "comms"}}},
        BlockId.ASSIGNEE: {ActionId.ASSIGNEE: {"type": "users_select", "selected_user": "U3"}},
    }
    assert h.emu.submit_view(h.url, view_id, values, user_id="U1").status == 200
    h.settle()
    assert "*Comms:* <@U3>" in h.emu.channels[room].messages[0].text
    assert "U3" in h.emu.channels[room].members


def test_update_posts_in_room_and_announce_and_changes_status(harness: Harness) -> None:
    h = harness
    room = declared(h)
    h.command("assign commander <@U2|bob>", channel=room)
    h.command("update identified Bad deploy of the cart service; rolling back", channel=room)
    incident = h.incident(1)
    assert incident.status == "identified" and incident.last_update_at is not None
    room_post = h.emu.channels[room].messages[-1]
    assert room_post.metadata["event_type"] == "incident_update"
    assert "Bad deploy of the cart service" in room_post.text and "identified" in room_post.text
    assert "<@U2>" in room_post.text, "the update names the commander"
    announce = h.emu.channels[h.announce].messages[-1]
    assert announce.metadata["event_type"] == "incident_update"
    assert "Checkout is timing out" in announce.text and "rolling back" in announce.text
    assert "identified" in h.emu.channels[room].topic
    assert "*INC-1 · sev2 · identified*" in h.emu.channels[room].messages[0].text
    assert h.timeline_kinds(1)[-2:] == ["status_changed", "update_posted"]

    h.command("update Rollback at 50%", channel=room)
    assert h.incident(1).status == "identified"
    assert h.timeline_kinds(1).count("status_changed") == 1
    assert len(h.emu.calls_to("conversations.setTopic")) == 2, "the topic changes only with the status"


def test_private_incident_updates_stay_in_the_room(harness: Harness) -> None:
    h = harness
    room = declared(h, "declare --private sev1 Payroll leak")
    before = len(h.emu.channels[h.announce].messages)
    h.command("update monitoring Access revoked", channel=room)
    assert "Access revoked" in h.emu.channels[room].messages[-1].text
    assert len(h.emu.channels[h.announce].messages) == before
    assert "posted to the war room." in h.replies()[-1]


def test_update_without_text_opens_prefilled_modal(harness: Harness) -> None:
    h = harness
    room = declared(h)
    h.command("update Elevated 504s on checkout", channel=room)
    h.command("update", channel=room)
    (opened,) = [c for c in h.emu.calls_to("views.open")]
    blocks = opened.args["view"]["blocks"]
    message_block = next(b for b in blocks if b["block_id"] == BlockId.MESSAGE)
    assert message_block["element"]["initial_value"] == "Elevated 504s on checkout"
    view_id = next(iter(h.emu.views))
    values = {
        BlockId.STATUS: {
            ActionId.STATUS: {"type": "static_select", "selected_option": {"value": "monitoring"}}
        },
        BlockId.MESSAGE: {ActionId.MESSAGE: {"type": "plain_text_input", "value": "Fix deployed\nWatching"}},
    }
    h.emu.submit_view(h.url, view_id, values, user_id="U2")
    h.settle()
    assert h.incident(1).status == "monitoring"
    assert "Fix deployed\nWatching" in h.emu.channels[room].messages[-1].text


def test_update_bad_input(harness: Harness) -> None:
    h = harness
    room = declared(h)
    assert "needs a message" in h.command("update identified", channel=room).json()["text"]
    assert "/incident resolve" in h.command("update resolved all good", channel=room).json()["text"]
    assert "limit is 2900" in h.command("update " + "x" * 3000, channel=room).json()["text"]
    h.command("update all good")
    assert "works inside an incident's war room" in h.replies()[-1]
    assert "update_posted" not in h.timeline_kinds(1)


def test_escalate_raises_severity_and_pages_people_and_groups(harness: Harness) -> None:
    h = harness
    room = declared(h)
    h.command("escalate sev1 <@U2|bob> <!subteam^S1|@db-oncall>", channel=room)
    incident = h.incident(1)
    assert incident.severity == "sev1"
    assert {"U2", "U3", "U4"} <= h.emu.channels[room].members
    assert h.emu.calls_to("usergroups.users.list")[0].args["usergroup"] == "S1"
    for user in ("U2", "U3", "U4"):
        (page,) = h.dms_to(user)
        assert page.args["metadata"]["event_type"] == "incident_paged"
        buttons = page.args["blocks"][-1]["elements"]
        assert buttons[0]["action_id"] == ActionId.JOIN_ROOM and buttons[0]["value"] == "1"
    escalation = h.emu.channels[room].messages[-1]
    assert (
        "sev2 → sev1" in escalation.text and "<!subteam^S1>" in escalation.text and "<@U2>" in escalation.text
    )
    assert "now *sev1*" in h.emu.channels[h.announce].messages[-1].text
    assert "sev1" in h.emu.channels[room].topic
    assert "sev1" in h.emu.channels[room].messages[0].text
    assert h.timeline_kinds(1)[-2:] == ["severity_changed", "escalated"]


def test_join_button_invites_the_paged_person(harness: Harness) -> None:
    h = harness
    room = declared(h)
    h.command("escalate <@U2|bob>", channel=room)
    h.emu.channels[room].members.discard("U2")
    assert len(h.dms_to("U2")) == 1
    dm = next(c for c in h.emu.channels.values() if c.is_im and "U2" in c.members)
    h.emu.click_button(
        h.url,
        user_id="U2",
        channel_id=dm.id,
        message_ts=dm.messages[-1].ts,
        action_id=ActionId.JOIN_ROOM,
        value="1",
    )
    h.settle()
    assert "U2" in h.emu.channels[room].members
    assert f"<#{room}>" in h.replies()[-1]


def test_escalate_bad_input(harness: Harness) -> None:
    h = harness
    room = declared(h)
    assert "is not a severity" in h.command("escalate sev9", channel=room).json()["text"]
    assert "Give a severity" in h.command("escalate", channel=room).json()["text"]
    h.command("escalate sev2", channel=room)
    assert "already sev2" in h.replies()[-1]
    h.command("escalate <!subteam^S404|@nobody>", channel=room)
    assert "can't find the user group" in h.replies()[-1]
    h.command("escalate <@U999|ghost>", channel=room)
    assert "can't find <@U999>" in h.replies()[-1]
    assert "escalated" not in h.timeline_kinds(1) and h.incident(1).severity == "sev2"


def test_lowering_severity_and_resolving_are_guarded(configured_harness: object) -> None:
    h: Harness = configured_harness(IncidentConfig(admins=["U4"]))  # type: ignore[operator]
    room = declared(h, "declare sev1 Everything is down")
    h.command("escalate sev3", channel=room, user="U1")
    assert "Only the commander or an admin may lower the severity of INC-1" in h.replies()[-1]
    assert "Nobody is commander yet" in h.replies()[-1]
    h.command("resolve", channel=room, user="U1")
    assert "Only the commander or an admin may resolve INC-1" in h.replies()[-1]
    assert h.incident(1).severity == "sev1" and h.incident(1).status == "investigating"

    h.command("assign commander <@U2|bob>", channel=room, user="U1")
    h.command("escalate sev2", channel=room, user="U3")
    assert "The commander is <@U2>" in h.replies()[-1]
    h.command("escalate sev2", channel=room, user="U2")
    assert h.incident(1).severity == "sev2"
    h.command("escalate sev3", channel=room, user="U4")  # an admin
    assert h.incident(1).severity == "sev3"
    h.command("escalate sev1", channel=room, user="U3")  # raising is anyone's right
    assert h.incident(1).severity == "sev1"
    h.command("resolve", channel=room, user="U4")
    assert h.incident(1).status == "resolved"


def test_admin_group_and_widened_permissions(configured_harness: object) -> None:
    from bot.ops.config import PermissionsConfig

    h: Harness = configured_harness(  # type: ignore[operator]
        IncidentConfig(admin_group="S1", permissions=PermissionsConfig(resolve=["anyone"]))
    )
    room = declared(h, "declare sev1 Everything is down")
    h.command("escalate sev4", channel=room, user="U3")  # U3 is in S1
    assert h.incident(1).severity == "sev4"
    h.command("resolve", channel=room, user="U1")  # resolve widened to anyone
    assert h.incident(1).status == "resolved"
