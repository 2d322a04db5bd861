"""One member cannot make the bot page or declare without end: bounded pages, parallel look-ups, a limit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.ops.config import IncidentConfig
from tests.reliability import payloads
from tests.reliability.conftest import Rig, open_rig

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


@pytest.fixture
def limited(db_url: str) -> Iterator[Rig]:
    """Two replicas on one database, three declares a minute each."""
    yield from open_rig(db_url, IncidentConfig(declare_rate_limit="3/1m"), replicas=2)


def _declare(r: Rig, n: int, user: str) -> str:
    """A declare on one replica or the other; the acknowledgement's text."""
    url = r.replicas[n % 2].url
    return str(r.emu.send_command(url, f"declare sev3 Outage {user} {n}", user_id=user).json()["text"])


def test_declares_are_rate_limited_per_person_across_replicas(limited: Rig) -> None:
    r = limited
    acks = [_declare(r, n, "U1") for n in range(4)]
    r.settle()
    assert all("Declared" in ack for ack in acks[:3])
    assert acks[3].startswith(":no_entry: You have declared 3 incidents in the last 1m")
    assert "`declare_rate_limit`: 3 per 1m" in acks[3] and "nothing was declared" in acks[3]
    assert "Declared" in _declare(r, 4, "U2"), "the limit is per person"

    r.command("declare", user="U1")  # the form: refused on the form, which stays open
    view_id = list(r.emu.views)[-1]
    form = r.emu.submit_view(r.url, view_id, payloads.declare_values("One more"), user_id="U1")
    assert "declare_rate_limit" in str(form.json()["errors"])

    # A burst, committed together, is held to the limit too.
    with ThreadPoolExecutor(max_workers=6) as pool:
        burst = list(pool.map(lambda n: _declare(r, n, "U3"), range(6)))
    r.settle()
    assert sum("Declared" in ack for ack in burst) == 3
    assert sum("You have declared 3 incidents" in ack for ack in burst) == 3

    assert len(r.incidents()) == 7
    assert len(r.emu.calls_to("conversations.create")) == 7
    assert len([m for m in r.emu.channels[r.announce].messages if "Outage" in m.text]) == 7


def test_the_limits_are_config_keys() -> None:
    from bot.ops.config import ConfigError, config_from_mapping

    with pytest.raises(ConfigError, match="max_paged_per_command"):
        config_from_mapping({"max_paged_per_command": 0})
    with pytest.raises(ConfigError, match="declare_rate_limit: 'five a minute' is not a rate"):
        config_from_mapping({"declare_rate_limit": "five a minute"})
    assert IncidentConfig().max_paged_per_command == 50 and IncidentConfig().declare_rate_limit == "5/1m"
    assert IncidentConfig(declare_rate_limit="10/30s").declare_limit().count == 10
