"""App Home over HTTP against the strict emulator: opening it publishes the person's own view, changes
re-publish it for those they touch, *Done* works from it, and long lists stay within Slack's limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.ops.config import IncidentConfig
from bot.slack.ids import ActionId
from commands.records import Incident
from tests.scenario.conftest import FakeClock, Harness


def opened(h: Harness, user: str) -> dict[str, Any]:
    """Open the Home tab as `user` and return the view Slack now shows them."""
    assert h.emu.open_home(h.url, user).status == 200
    h.settle()
    return h.emu.state.home_views[user]


def text_of(view: dict[str, Any]) -> str:
    parts: list[str] = []
    for block in view["blocks"]:
        parts.append(str((block.get("text") or {}).get("text", "")))
        parts += [str(f.get("text", "")) for f in block.get("fields") or []]
        parts += [str(e.get("text", "")) for e in block.get("elements") or [] if isinstance(e, dict)]
    return "\n".join(parts)


def done_values(view: dict[str, Any]) -> list[str]:
    return [
        b["accessory"]["value"]
        for b in view["blocks"]
        if (b.get("accessory") or {}).get("action_id") == ActionId.HOME_ACTION_DONE
    ]


def publishes_to(h: Harness, user: str) -> int:
    return sum(1 for c in h.emu.calls_to("views.publish") if c.args.get("user_id") == user)


def tick(h: Harness) -> None:
    h.bot.runtime.tick()
    h.settle()


def test_home_shows_incidents_roles_items_and_figures_per_person(
    configured_harness: Callable[..., Harness],
) -> None:
    clock = FakeClock()
    h = configured_harness(IncidentConfig(), clock)
    h.command("declare sev2 Checkout is timing out")
    room = str(h.room(1).id)
    h.command("assign commander <@U2|bob>", channel=room)
    h.command("action Add a canary <@U2|bob> due tomorrow p1", channel=room)
    h.command("action Write the runbook <@U2|bob>", channel=room)
    clock.advance(days=3)

    bob = text_of(opened(h, "U2"))
    assert "INC-1" in bob and f"<#{room}>" in bob and "Checkout is timing out" in bob
    assert "commander" in bob
    assert "Add a canary" in bob and "Write the runbook" in bob and "2 open, 1 overdue" in bob
    assert "Last 30 days" in bob and "*Incidents*\n1 (1 still open)" in bob
    assert len(done_values(h.emu.state.home_views["U2"])) == 2

    carol = text_of(opened(h, "U3"))
    assert "INC-1" in carol, "a public incident is on everyone's Home"
    assert "You hold no role" in carol and "You have no open action items" in carol
    (call,) = [c for c in h.emu.calls_to("views.publish") if c.args.get("user_id") == "U3"]
    assert call.args["view"]["type"] == "home"


def test_private_incident_is_hidden_from_non_members(harness: Harness) -> None:
    h = harness
    h.command("declare --private sev1 Payroll export leaked", user="U1")
    room = str(h.room(1).id)
    h.command("assign comms <@U2|bob>", channel=room)

    for member in ("U1", "U2"):
        text = text_of(opened(h, member))
        assert "Payroll export leaked" in text and f"<#{room}>" in text, member
    outsider = text_of(opened(h, "U3"))
    assert "Payroll" not in outsider and room not in outsider and "INC-1" not in outsider
    assert "Open incidents (0)" in outsider


def test_changes_republish_only_for_those_affected_who_opened_home(harness: Harness) -> None:
    h = harness
    h.command("declare sev2 Checkout is timing out")
    room = str(h.room(1).id)
    opened(h, "U2")
    opened(h, "U4")
    tick(h)  # the refresh starts reading after what happened before it
    before_bob, before_dave = publishes_to(h, "U2"), publishes_to(h, "U4")

    h.command("assign scribe <@U2|bob>", channel=room)
    h.command("action Add a canary <@U2|bob>", channel=room)
    tick(h)
    assert publishes_to(h, "U2") == before_bob + 1, "both changes are shown in one publish"
    assert publishes_to(h, "U4") == before_dave, "dave holds nothing there: his view is left alone"
    assert publishes_to(h, "U3") == 0, "carol never opened Home"
    bob = text_of(h.emu.state.home_views["U2"])
    assert "scribe" in bob and "Add a canary" in bob

    tick(h)
    assert publishes_to(h, "U2") == before_bob + 1, "nothing new: no publish"

    h.command("assign commander <@U1|alice>", channel=room)
    h.command("resolve Fixed the pool size", channel=room)
    assert h.incident(1).status == "resolved", h.replies()[-1]
    tick(h)
    assert publishes_to(h, "U4") == before_dave + 1, "a public incident's end shows on every recent Home"
    assert "Open incidents (0)" in text_of(h.emu.state.home_views["U4"])


def test_done_from_the_room_refreshes_the_owners_home(harness: Harness) -> None:
    h = harness
    h.command("declare sev2 Checkout is timing out")
    room = str(h.room(1).id)
    h.command("action Add a canary <@U2|bob>", channel=room)
    assert len(done_values(opened(h, "U2"))) == 1
    tick(h)
    h.command("action done 1", channel=room, user="U1")
    tick(h)
    assert done_values(h.emu.state.home_views["U2"]) == []
    assert "You have no open action items" in text_of(h.emu.state.home_views["U2"])


def test_done_button_on_home_marks_the_item_and_says_so_there(harness: Harness) -> None:
    h = harness
    h.command("declare sev2 Checkout is timing out")
    room = str(h.room(1).id)
    h.command("action Add a canary <@U2|bob>", channel=room)
    (item,) = done_values(opened(h, "U2"))

    result = h.emu.click_home_button(h.url, user_id="U2", action_id=ActionId.HOME_ACTION_DONE, value=item)
    assert result.status == 200
    h.settle()
    view = h.emu.state.home_views["U2"]
    assert done_values(view) == []
    assert "Marked action item 1 of INC-1 done" in text_of(view)
    assert "action_item_done" in h.timeline_kinds(1)
    with h.bot.runtime.uow() as tx:
        (stored,) = tx.action_items.list_for(1)
        assert stored.done_by == "U2" and stored.done_at is not None


def test_only_the_owner_may_mark_done_from_home(harness: Harness) -> None:
    h = harness
    h.command("declare sev2 Checkout is timing out")
    room = str(h.room(1).id)
    h.command("action Add a canary <@U2|bob>", channel=room)
    (item,) = done_values(opened(h, "U2"))
    opened(h, "U3")
    # carol's Home has no such button; a forged click (same payload shape) is refused when recorded.
    h.emu.state.home_views["U3"]["blocks"].append(h.emu.state.home_views["U2"]["blocks"][-3])
    h.emu.click_home_button(h.url, user_id="U3", action_id=ActionId.HOME_ACTION_DONE, value=item)
    h.settle()
    assert "Only its owner" in text_of(h.emu.state.home_views["U3"])
    assert "action_item_done" not in h.timeline_kinds(1)


def test_long_lists_fit_slacks_limits_with_and_n_more(harness: Harness) -> None:
    h = harness
    h.command("declare sev3 The first one")
    room = str(h.room(1).id)
    with h.bot.runtime.uow() as tx:  # 34 more open incidents, as many as a busy week might hold
        tx.incidents.insert_many(
            [
                Incident(
                    title=f"Incident number {n} " + "x" * 150,
                    severity="sev3",
                    status="investigating",
                    declared_by="U1",
                    declared_at=h.incident(1).declared_at,
                )
                for n in range(34)
            ]
        )
        tx.commit()
    for n in range(40):
        h.command(f"action Task {n} <@U2|bob>", channel=room, settle=False)
    h.settle()
    view = opened(h, "U2")
    assert len(view["blocks"]) <= 100
    text = text_of(view)
    assert "and 5 more open incidents" in text and "and 10 more action items" in text
    assert "Open incidents (35)" in text and "40 open" in text
