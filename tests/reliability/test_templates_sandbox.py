"""Operator templates run sandboxed: one reaching for Python internals is refused, named, and replaced."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.ops.config import IncidentConfig
from tests.postmortem_markdown import SECTIONS, headings, split
from tests.reliability.conftest import Rig, bot_output

# What Python internals look like when a template manages to print them.
LEAKS = ("<class", "<function", "<module", "__builtins__", "subclasses")


def escape_attempts(marker: Path) -> dict[str, str]:
    """Override templates, each with a classic sandbox escape on its second line."""
    run = f"cycler.__init__.__globals__.os.mkdir('{marker}')"
    return {
        "summary.mrkdwn.j2": "*{{ incident.ref }}*\n{{ ''.__class__.__mro__[1].__subclasses__() }}\n",
        "topic.mrkdwn.j2": "{{ incident.ref }}\n{{ incident.__class__.__init__.__globals__ }}\n",
        "announcement.mrkdwn.j2": "{{ incident.ref }}\n{{ " + run + " }}\n",
        "postmortem.md.j2": "{{ front_matter }}\n{{ "
        + run
        + " }}\n{{ pm.__class__.__init__.__globals__ }}\n",
    }


def shared_drafts(rig: Rig, room: str) -> list[bytes]:
    """The contents of the files shared to the room, once Slack shows them."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(
        f.completed and not f.channel_ids for f in rig.emu.files.values()
    ):
        time.sleep(0.05)
    return [f.content for f in rig.emu.files.values() if f.completed and room in f.channel_ids]


def test_override_templates_cannot_reach_python_internals(
    make_rig: Callable[..., Rig], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    overrides = tmp_path / "templates"
    overrides.mkdir()
    marker = tmp_path / "escaped"
    for name, text in escape_attempts(marker).items():
        (overrides / name).write_text(text)
    rig = make_rig(config=IncidentConfig(templates_dir=overrides))

    with caplog.at_level(logging.ERROR):
        rig.command("declare sev2 Checkout is timing out")
        room = str(rig.room(1).id)
        rig.command("postmortem", channel=room)
        (draft,) = shared_drafts(rig, room)

    assert not marker.exists(), "a template ran code"
    shown = "\n".join(text for _, text in bot_output(rig.emu))
    assert not [leak for leak in LEAKS if leak in shown or leak.encode() in draft]
    # The shipped templates were used instead, so people still get the whole incident.
    summary = rig.room(1).messages[0].text
    assert "INC-1 · sev2 · investigating" in summary and "Checkout is timing out" in summary
    assert rig.room(1).topic == "INC-1 | sev2 | investigating | Checkout is timing out"
    assert headings(split(draft.decode())[1]) == ["INC-1: Checkout is timing out", *SECTIONS]
    # Each refusal names the operator's file and the line, like a broken template does.
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    for name in escape_attempts(marker):
        assert [e for e in errors if f"{overrides / name} line 2" in e], name


def test_every_shipped_template_renders_in_the_sandbox_beside_an_override(
    make_rig: Callable[..., Rig], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # With templates_dir set, the templates it does not override are the shipped ones, sandboxed.
    (tmp_path / "topic.mrkdwn.j2").write_text("{{ incident.ref }} (custom) {{ incident.title }}")
    rig = make_rig(config=IncidentConfig(templates_dir=tmp_path))
    with caplog.at_level(logging.WARNING):
        rig.command("declare sev2 Checkout is timing out")
        room = str(rig.room(1).id)
        for text in (
            "assign commander <@U2|bob>",
            "update identified Bad deploy; rolling back",
            "escalate sev1 <@U4|dave> <!subteam^S1|db-oncall>",
            "note Error rate is falling",
            "action Alert on pool saturation <@U4|dave>",
            "status",
            "resolve Rolled back",
        ):
            rig.command(text, channel=room, user="U2")
        rig.command("list")
        drafts = shared_drafts(rig, room)
    assert rig.room(1).topic == "INC-1 (custom) Checkout is timing out"
    assert [
        r.getMessage() for r in caplog.records if r.name in ("bot.render.presenter", "bot.render.postmortem")
    ] == []
    assert len(drafts) == 1 and b"Rolled back" in drafts[0]
    assert any("Resolved" in m.text for m in rig.room(1).messages)
