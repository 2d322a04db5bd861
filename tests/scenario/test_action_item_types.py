"""An action item's type from the form, over signed HTTP against the strict emulator: stored like
`/incident action ... type prevent`, shown in the room and on the list, grouped in the postmortem."""

from __future__ import annotations

from typing import Any

from bot.slack.ids import ActionId, BlockId
from tests.scenario.conftest import Harness
from tests.scenario.test_action_items import declared
from tests.scenario.test_duplicates_checklists import posts
from tests.scenario.test_postmortem import shared_files


def type_option(view: dict[str, Any], value: str) -> dict[str, Any]:
    """The option of the form's Type menu with `value`, as Slack sends the chosen one back."""
    [block] = [b for b in view["blocks"] if b["block_id"] == BlockId.ACTION_KIND]
    [chosen] = [o for o in block["element"]["options"] if o["value"] == value]
    return dict(chosen)


def values(text: str, kind: dict[str, Any] | None) -> dict[str, Any]:
    state: dict[str, Any] = {
        BlockId.ACTION_TEXT: {ActionId.ACTION_TEXT: {"type": "plain_text_input", "value": text}},
        BlockId.ACTION_OWNER: {ActionId.ACTION_OWNER: {"type": "users_select", "selected_user": None}},
        BlockId.ACTION_DUE: {ActionId.ACTION_DUE: {"type": "datepicker", "selected_date": None}},
        BlockId.ACTION_PRIORITY: {
            ActionId.ACTION_PRIORITY: {"type": "static_select", "selected_option": None}
        },
        BlockId.ACTION_KIND: {ActionId.ACTION_KIND: {"type": "static_select", "selected_option": kind}},
    }
    return state


def test_the_form_records_a_type_the_room_and_the_draft_show(harness: Harness) -> None:
    h = harness
    room = declared(h)
    h.command("action", channel=room)
    (opened,) = h.emu.calls_to("views.open")
    view_id = list(h.emu.views)[-1]
    prevent = type_option(opened.args["view"], "prevent")
    assert prevent["text"]["text"] == "Prevent"

    forged = {"text": {"type": "plain_text", "text": "Later"}, "value": "someday"}
    refused = h.emu.submit_view(h.url, view_id, values("Add a pool size alert", forged), user_id="U1")
    assert refused.json()["errors"] == {BlockId.ACTION_KIND: "Choose Mitigate, Prevent or Process."}
    with h.bot.runtime.uow() as tx:
        assert list(tx.action_items.list_for(1)) == [], "a refused form records nothing"

    done = h.emu.submit_view(h.url, view_id, values("Add a pool size alert <b>&", prevent), user_id="U1")
    assert done.status == 200
    h.settle()
    h.command("action Write the runbook", channel=room)  # untyped: Other in the draft
    with h.bot.runtime.uow() as tx:
        assert [(i.text, i.kind) for i in tx.action_items.list_for(1)] == [
            ("Add a pool size alert <b>&", "prevent"),
            ("Write the runbook", None),
        ]
    [said] = [e.text for e in h.emu.channels[room].ephemerals if "Action item 1 recorded" in e.text]
    assert said.endswith("no owner · type prevent. The room has it."), said

    first, second = posts(h, room, "incident_action_item")
    assert "Add a pool size alert &lt;b&gt;&amp;" in first.text and "no owner · type prevent" in first.text
    assert "type" not in second.text.split("Write the runbook")[1]

    h.command("actions", channel=room)
    [listed] = posts(h, room, "incident_action_items")
    lines = [
        b["text"]["text"] for b in listed.blocks if b.get("block_id", "").startswith(BlockId.ACTION_ITEM)
    ]
    assert lines[0].endswith("· no owner · type prevent") and "type" not in lines[1].split("runbook")[1]

    h.command("assign commander <@U1|alice>", channel=room)
    h.command("resolve Fixed", channel=room)
    [draft] = shared_files(h, room)
    items = draft.content.decode().split("## Action items")[1].split("## Checklist")[0]
    prevent_group = items.split("**Prevent**")[1].split("**Other**")[0]
    assert "Add a pool size alert" in prevent_group and "runbook" not in prevent_group
    assert "Write the runbook" in items.split("**Other**")[1]
