"""A config of just an announce channel and one severity with a cadence runs: no description needed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.ops.config import load_config
from tests.scenario.conftest import Harness

MINIMAL = 'announce_channel = "ops-incidents"\n\n[severities.urgent]\nupdate_every = "30m"\n'


def start(configured_harness: Any, tmp_path: Path) -> Harness:
    path = tmp_path / "incidentbot.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    harness: Harness = configured_harness(load_config(path))
    return harness


def test_declare_with_a_severity_that_has_no_description(configured_harness: Any, tmp_path: Path) -> None:
    h = start(configured_harness, tmp_path)

    h.command("declare urgent checkout down")

    room = h.room(1)
    assert room.name == "inc-1-checkout-down"
    summary = room.messages[0].text
    assert "urgent" in summary and "·  " not in summary and not summary.rstrip().endswith("·")
    assert [m.text for m in h.emu.channels[h.announce].messages][0]


def test_declare_form_lists_a_severity_without_description_by_name(
    configured_harness: Any, tmp_path: Path
) -> None:
    h = start(configured_harness, tmp_path)

    h.command("declare")

    (opened,) = h.emu.calls_to("views.open")
    view = opened.args["view"]
    options = [
        option
        for block in view["blocks"]
        if block.get("element", {}).get("type") == "static_select"
        for option in block["element"]["options"]
    ]
    assert [option["text"]["text"] for option in options] == ["urgent"]
