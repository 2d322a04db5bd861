"""After forget-user, the next draft shared to the war room shows neither the person's name nor words."""

from __future__ import annotations

import pytest

from bot.ops.cli import main
from tests.scenario.conftest import Harness
from tests.scenario.test_postmortem import shared_files


def test_a_draft_after_forgetting_shows_the_id_and_slack_is_not_asked_the_name(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    h = harness
    h.command("declare sev2 Search is down")
    room = str(h.room(1).id)
    h.command("assign commander <@U2|bob>", channel=room)
    h.command("note the admin password is hunter2", channel=room, user="U2")
    h.command("postmortem", channel=room)
    first = shared_files(h, room)[-1].content.decode()
    assert "Commander: @bob" in first and "hunter2" in first

    monkeypatch.setenv("DATABASE_URL", h.bot.engine.url.render_as_string(hide_password=False))
    assert main(["forget-user", "U2"]) == 0
    assert "timeline entries replaced: 1" in capsys.readouterr().out
    asked = [c.args.get("user") for c in h.emu.calls_to("users.info")]
    h.command("postmortem", channel=room)
    second = shared_files(h, room)[-1].content.decode()
    assert "bob" not in second and "hunter2" not in second
    assert "Commander: @U2" in second and "removed at the request of the person" in second
    assert [c.args.get("user") for c in h.emu.calls_to("users.info")][len(asked) :] == []
