"""Possible duplicates, `/incident duplicate` and its button, and checklists, over HTTP (emulated Slack)."""

from __future__ import annotations

from typing import Any

from bot.ops.config import IncidentConfig, SeverityConfig, TypeConfig
from bot.slack.ids import ActionId, BlockId
from tests.scenario.conftest import Harness
from tests.scenario.test_postmortem import shared_files


def posts(h: Harness, room: str, event_type: str) -> list[Any]:
    return [m for m in h.emu.channels[room].messages if (m.metadata or {}).get("event_type") == event_type]


def summary(h: Harness, number: int) -> Any:
    return h.emu.channels[str(h.room(number).id)].messages[0]


def buttons(message: Any) -> dict[str, str]:
    """action_id -> value of every button of a message."""
    found: dict[str, str] = {}
    for block in message.blocks or []:
        for element in block.get("elements") or []:
            if element.get("type") == "button":
                found[element["action_id"]] = element.get("value", "")
    return found


def two_alike(h: Harness) -> tuple[str, str]:
    """INC-1 declared by alice; INC-2, close in title, declared by bob, with carol in its room."""
    h.command("declare sev2 Checkout is timing out")
    h.command("declare sev2 checkout timing out!", user="U2")
    first, second = str(h.room(1).id), str(h.room(2).id)
    h.emu.channels[second].members.add("U3")
    return first, second


def test_a_close_title_is_offered_as_a_possible_duplicate_and_the_button_marks_it(harness: Harness) -> None:
    h = harness
    first, second = two_alike(h)
    assert "Possibly the same as *INC-1*" in h.replies()[-1], "the declarer hears it"
    assert "Possibly the same as" not in h.replies()[0]
    assert h.incident(2).possible_duplicate_of == 1
    pinned = summary(h, 2)
    assert "Possibly the same as INC-1" in pinned.text
    assert buttons(pinned)[ActionId.MARK_DUPLICATE] == "1"
    assert ActionId.MARK_DUPLICATE not in buttons(summary(h, 1))

    h.emu.click_button(
        h.url,
        user_id="U2",
        channel_id=second,
        message_ts=pinned.ts,
        action_id=ActionId.MARK_DUPLICATE,
        value="1",
        block_id=BlockId.SUMMARY_ACTIONS,
    )
    h.settle()
    incident = h.incident(2)
    assert (incident.status, incident.duplicate_of, incident.resolved_by) == ("resolved", 1, "U2")
    [post] = posts(h, second, "incident_duplicate")
    assert f"<#{first}>" in post.text and "No postmortem draft" in post.text
    assert {"U2", "U3"} <= h.emu.channels[first].members, "the duplicate's people are in the other room"
    invites = [c for c in h.emu.calls_to("conversations.invite") if c.args.get("channel") == first]
    assert len(invites) == 2, "the declarer's, then one call for the duplicate's people"
    invite = invites[-1]
    invited = str(invite.args["users"]).split(",")
    assert sorted(invited) == ["U2", "U3"] and h.emu.bot_user_id not in invited
    assert str(invite.args.get("force")).lower() in ("1", "true")
    [announced] = posts(h, h.announce, "incident_duplicate")
    assert "INC-2" in announced.text and "INC-1" in announced.text
    assert "marked_duplicate" in h.timeline_kinds(2) and "duplicate_linked" in h.timeline_kinds(1)
    assert "resolved" in h.emu.channels[second].topic
    refreshed = summary(h, 2)
    assert "Duplicate of INC-1" in refreshed.text and ActionId.MARK_DUPLICATE not in buttons(refreshed)
    assert shared_files(h, second) == [], "a duplicate gets no postmortem draft"
    assert h.incident(1).status == "investigating"


def test_duplicate_by_command_and_its_refusals(harness: Harness) -> None:
    h = harness
    first, second = two_alike(h)
    h.command("assign commander <@U2|bob>", channel=second, user="U2")
    h.command("duplicate INC-1", channel=second, user="U3")
    assert "Only the commander or an admin may mark INC-2 as a duplicate" in h.replies()[-1]
    h.command("duplicate INC-2", channel=second, user="U2")
    assert "INC-2 cannot be a duplicate of itself" in h.replies()[-1]
    h.command("duplicate INC-1", user="U2")
    assert "works inside an incident's war room" in h.replies()[-1]
    assert h.incident(2).status == "investigating" and "marked_duplicate" not in h.timeline_kinds(2)

    h.command("duplicate INC-1", channel=second, user="U2")
    assert h.incident(2).duplicate_of == 1
    assert "U3" in h.emu.channels[first].members
    h.command("duplicate INC-1", channel=second, user="U2")
    assert "INC-2 is already resolved as a duplicate of INC-1" in h.replies()[-1]
    assert len(posts(h, second, "incident_duplicate")) == 1


def test_a_private_incident_is_never_revealed(harness: Harness) -> None:
    h = harness
    h.command("declare --private sev1 Payroll export leaks")
    h.command("declare sev1 Payroll export leaks", user="U2")
    assert "Possibly the same" not in h.replies()[-1], "a private incident is not offered"
    assert h.incident(2).possible_duplicate_of is None
    room = str(h.room(2).id)
    h.command("duplicate INC-1", channel=room, user="U2")
    private = h.replies()[-1]
    h.command("duplicate INC-9", channel=room, user="U2")
    unknown = h.replies()[-1]
    assert private == unknown.replace("INC-9", "INC-1")
    assert "Payroll" not in private and "private" not in private
    assert h.incident(2).status == "investigating"
    assert "U2" not in h.emu.channels[str(h.room(1).id)].members


ITEMS = [f"Step {n}" for n in range(11)] + ["x" * 90]  # twelve: two groups; one too long for a checkbox


def checklist_harness(configured_harness: Any) -> Harness:
    config = IncidentConfig(
        severities={
            "sev1": SeverityConfig(update_every="15m", checklist=ITEMS[1:]),  # type: ignore[arg-type]
            "sev2": SeverityConfig(update_every="30m"),  # type: ignore[arg-type]
        },
        types={"default": TypeConfig(checklist=ITEMS[:1])},
    )
    h: Harness = configured_harness(config)
    return h


def checkbox_groups(message: Any) -> list[dict[str, Any]]:
    return [b["elements"][0] for b in message.blocks if b.get("block_id", "").startswith("checklist_")]


def test_the_checklist_is_posted_ticked_once_under_retries_and_unticked(configured_harness: Any) -> None:
    h = checklist_harness(configured_harness)
    h.command("declare sev1 Checkout is timing out")
    room = str(h.room(1).id)
    [checklist] = posts(h, room, "incident_checklist")
    groups = checkbox_groups(checklist)
    assert [len(g["options"]) for g in groups] == [10, 2], "ten checkboxes an element"
    assert groups[1]["options"][-1]["text"]["text"].endswith("…"), "clipped to Slack's 75 characters"
    assert "x" * 90 in checklist.text, "the fallback text keeps the whole item"
    assert [(i.position, i.source) for i in checklist_items(h)][:2] == [
        (0, "type:default"),
        (1, "severity:sev1"),
    ]
    h.emu.channels[room].members.add("U2")

    payload = h.emu.checkbox_payload(
        user_id="U2",
        channel_id=room,
        message_ts=checklist.ts,
        block_id="checklist_0",
        action_id=ActionId.CHECKLIST,
        selected=["0"],
    )
    assert h.emu.send_interaction(h.url, payload).status == 200
    assert h.emu.send_interaction(h.url, payload, retry_num=1).status == 200  # Slack's retry
    h.settle()
    assert h.timeline_kinds(1).count("checklist_checked") == 1
    assert checklist_items(h)[0].done_by == "U2"
    updates = [c for c in h.emu.calls_to("chat.update") if c.args.get("ts") == checklist.ts]
    assert len(updates) == 1
    shown = h.emu.channels[room].find(checklist.ts)
    [ticked] = checkbox_groups(shown)[0]["initial_options"]
    assert ticked["value"] == "0" and "<@U2>" in ticked["description"]["text"]

    # Carol ticks the second group's item on the message as it is now; then unticks Bob's.
    h.emu.check_boxes(
        h.url,
        user_id="U3",
        channel_id=room,
        message_ts=checklist.ts,
        block_id="checklist_1",
        action_id=ActionId.CHECKLIST,
        selected=["11"],
    )
    h.emu.check_boxes(
        h.url,
        user_id="U3",
        channel_id=room,
        message_ts=checklist.ts,
        block_id="checklist_0",
        action_id=ActionId.CHECKLIST,
        selected=[],
    )
    h.settle()
    items = checklist_items(h)
    assert (items[0].done_by, items[0].done_at, items[11].done_by) == (None, None, "U3")
    assert h.timeline_kinds(1).count("checklist_unchecked") == 1
    shown = h.emu.channels[room].find(checklist.ts)
    assert "initial_options" not in checkbox_groups(shown)[0]
    assert [o["value"] for o in checkbox_groups(shown)[1]["initial_options"]] == ["11"]

    h.command("assign commander <@U1|alice>", channel=room)
    h.command("resolve Fixed", channel=room)
    [draft] = shared_files(h, room)
    body = draft.content.decode()
    assert "## Checklist" in body and "1 of 12 item(s) done." in body
    assert "- [x] " + "x" * 90 + " · @carol · " in body
    assert "- [ ] Step 0 · left undone" in body


def checklist_items(h: Harness) -> list[Any]:
    with h.bot.runtime.uow() as tx:
        items = list(tx.checklist.list_for(1))
        for item in items:
            tx.session.expunge(item)
        return items
