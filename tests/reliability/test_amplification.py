"""One member cannot make the bot page or declare without end: bounded pages, parallel look-ups, a limit."""

from __future__ import annotations

import time

import pytest

from bot.config import IncidentConfig
from tests.reliability.conftest import Rig

CROWD = [f"U9{n:03d}" for n in range(60)]


def _nothing_paged(r: Rig, room: str) -> None:
    assert "escalated" not in r.timeline_kinds(1)
    assert not set(CROWD) & r.emu.channels[room].members
    assert not [c for c in r.emu.calls_to("chat.postMessage") if c.args.get("channel") in CROWD]


def test_an_escalation_pages_at_most_the_configured_number_of_people(rig: Rig) -> None:
    r = rig
    for user in CROWD:
        r.emu.add_user(user, name=user.lower())
    r.emu.add_usergroup("S9", handle="everyone", users=CROWD)
    r.command("declare sev2 Checkout is timing out")
    room = str(r.room(1).id)

    r.command("escalate sev1 " + " ".join(f"<@{u}>" for u in CROWD[:51]), channel=room)
    assert "at most 50 (`max_paged_per_command`)" in r.replies()[-1] and "51 people" in r.replies()[-1]
    assert r.emu.calls_to("users.info") == [], "refused before a single look-up"
    r.command("escalate sev1 <!subteam^S9|everyone>", channel=room)
    assert "That would page 60 people; one escalation may page at most 50" in r.replies()[-1]
    assert r.incident(1).severity == "sev2"
    _nothing_paged(r, room)

    r.command("escalate " + " ".join(f"<@{u}>" for u in CROWD[:50]), channel=room)
    assert set(CROWD[:50]) <= r.emu.channels[room].members


def test_the_people_named_are_looked_up_in_parallel(rig: Rig) -> None:
    r = rig
    for user in CROWD:
        r.emu.add_user(user, name=user.lower())
    r.command("declare sev2 Checkout is timing out")
    room = str(r.room(1).id)
    r.emu.set_latency(0.5, "users.info")
    start = time.monotonic()
    r.command("escalate " + " ".join(f"<@{u}>" for u in CROWD[:16]), channel=room)
    elapsed = time.monotonic() - start
    assert "escalated" in r.replies()[-1]
    assert len(r.emu.calls_to("users.info")) == 16
    assert elapsed < 3.0, f"16 look-ups of 0.5 s took {elapsed:.1f} s: one after another would take 8 s"


def test_the_page_limit_is_a_config_key() -> None:
    from bot.config import ConfigError, config_from_mapping

    with pytest.raises(ConfigError, match="max_paged_per_command"):
        config_from_mapping({"max_paged_per_command": 0})
    assert IncidentConfig().max_paged_per_command == 50
