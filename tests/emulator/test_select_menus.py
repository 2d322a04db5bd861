"""Static select menus in modals are checked the way Slack's select menu reference says, and the bot's
action item form (with its Type menu) passes those checks."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import SlackEmulator
from bot.slack.ids import ActionId, BlockId
from bot.slack.modals import action_item_modal

from .conftest import error_of


def option(text: str, value: str, kind: str = "plain_text") -> dict[str, Any]:
    return {"text": {"type": kind, "text": text}, "value": value}


MITIGATE, PREVENT = option("Mitigate", "mitigate"), option("Prevent", "prevent")


def menu(**fields: Any) -> dict[str, Any]:
    return {"type": "static_select", "action_id": "pick", **fields}


def form(element: dict[str, Any]) -> dict[str, Any]:
    field = {"type": "input", "block_id": "b", "label": {"type": "plain_text", "text": "Type"}}
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Action item"},
        "submit": {"type": "plain_text", "text": "Record"},
        "blocks": [{**field, "element": element}],
    }


GROUP = {"label": {"type": "plain_text", "text": "Kinds"}, "options": [MITIGATE, PREVENT]}


@pytest.mark.parametrize(
    ("element", "where"),
    [
        (menu(options=[MITIGATE, PREVENT]), None),
        (menu(options=[MITIGATE, PREVENT], initial_option=PREVENT), None),
        (menu(option_groups=[GROUP], initial_option=MITIGATE), None),
        (menu(options=[option(str(n), str(n)) for n in range(100)]), None),
        (menu(options=[option(str(n), str(n)) for n in range(101)]), "/element/options"),
        (menu(), "/element"),
        (menu(options=[MITIGATE], option_groups=[GROUP]), "/element"),
        (menu(options=[MITIGATE], initial_option=PREVENT), "/element/initial_option"),
        (menu(options=[MITIGATE], initial_option=option("Other", "mitigate")), "/element/initial_option"),
        (menu(options=[option("*Mitigate*", "mitigate", "mrkdwn")]), "/element/options/0/text/type"),
        (menu(options=[option("x" * 76, "x")]), "/element/options/0/text/text"),
        (menu(options=[option("x", "x" * 151)]), "/element/options/0/value"),
        (menu(options=[{"text": {"type": "plain_text", "text": "x"}}]), "/element/options/0/value"),
        (
            menu(options=[MITIGATE], placeholder={"type": "plain_text", "text": "p" * 151}),
            "/placeholder/text",
        ),
        (menu(options=[MITIGATE], placeholder={"type": "mrkdwn", "text": "p"}), "/placeholder/type"),
        (menu(option_groups=[{**GROUP, "label": {"type": "plain_text", "text": "g" * 76}}]), "/label/text"),
        (
            {
                "type": "multi_static_select",
                "action_id": "m",
                "options": [MITIGATE],
                "initial_options": [PREVENT],
            },
            "/element/initial_options/0",
        ),
    ],
)
def test_static_select_rules(
    client: WebClient, emu: SlackEmulator, element: dict[str, Any], where: str | None
) -> None:
    """Slack: options or option_groups (not both, 100 at most), plain_text option text (75) and a value
    (150), placeholder plain_text (150), initial options exactly among the options."""
    if where is None:
        assert client.views_open(trigger_id=emu.new_trigger_id(), view=form(element))["ok"]
        return
    with pytest.raises(SlackApiError) as exc:
        client.views_open(trigger_id=emu.new_trigger_id(), view=form(element))
    assert error_of(exc) == "invalid_arguments"
    assert where in exc.value.response["response_metadata"]["messages"][0]


def test_the_action_item_form_passes_with_its_type_menu(client: WebClient, emu: SlackEmulator) -> None:
    view = action_item_modal("C1", "Add a canary").to_dict()
    assert client.views_open(trigger_id=emu.new_trigger_id(), view=view)["ok"]
    [typed] = [b for b in view["blocks"] if b["block_id"] == BlockId.ACTION_KIND]
    assert typed["optional"] is True and typed["element"]["action_id"] == ActionId.ACTION_KIND
    assert [(o["text"]["text"], o["value"]) for o in typed["element"]["options"]] == [
        ("Mitigate", "mitigate"),
        ("Prevent", "prevent"),
        ("Process", "process"),
    ]
