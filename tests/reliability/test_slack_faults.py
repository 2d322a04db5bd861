"""Slack rate limits, 5xx and timeouts during every action: everything completes once, acks stay fast."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.reliability.conftest import Rig

# Every Web API method the full incident below calls.
FLOW_METHODS = (
    "conversations.create",
    "conversations.invite",
    "conversations.setTopic",
    "chat.postMessage",
    "pins.add",
    "chat.update",
    "users.info",
    "usergroups.users.list",
)


def posted_kinds(r: Rig, channel: str) -> Counter[str]:
    """What the bot posted in a channel, by metadata event type (ephemeral replies left out)."""
    return Counter(
        str(m.metadata["event_type"])
        for m in r.emu.channels[channel].messages
        if m.user == r.emu.bot_user_id and m.metadata and not getattr(m, "ephemeral_to", None)
    )


def run_incident(r: Rig) -> str:
    """Declare, assign, update, escalate and resolve, waiting for each to finish (sweeping as needed)."""
    r.command("declare sev2 Checkout is timing out")
    r.tick_until(lambda: r.pending_jobs() == 0)
    room = str(r.room(1).id)
    for text in (
        "assign commander <@U2|bob>",
        "update identified Bad deploy; rolling back",
        "escalate sev1 <@U3|carol> <!subteam^S1|@db-oncall>",
    ):
        r.command(text, channel=room, user="U2")
        r.tick_until(lambda: r.pending_jobs() == 0)
    r.command("resolve Rolled back", channel=room, user="U2")
    r.tick_until(lambda: r.pending_jobs() == 0)
    return room


def assert_everything_once(r: Rig, room: str) -> None:
    """One room, one of each post, the summary pinned and current: what users would count."""
    assert [c.name for c in r.emu.channels.values() if c.name.startswith("inc-")] == [r.room(1).name]
    messages = r.emu.channels[room].messages
    kinds = posted_kinds(r, room)
    assert set(kinds) >= {"incident_declared", "incident_update", "incident_escalated", "incident_resolved"}
    assert set(kinds.values()) == {1}, kinds
    assert messages[0].ts in r.emu.channels[room].pins and "Resolved" in messages[0].text
    announced = posted_kinds(r, r.announce)
    assert set(announced) >= {
        "incident_declared",
        "incident_update",
        "incident_escalated",
        "incident_resolved",
    }
    assert set(announced.values()) == {1}, announced
    dms = Counter(
        (c.args["channel"], (c.args.get("metadata") or {}).get("event_type"))
        for c in r.emu.calls_to("chat.postMessage")
        if c.ok and str(c.args["channel"]).startswith("U")
    )
    assert {("U2", "incident_role_assigned"), ("U3", "incident_paged"), ("U4", "incident_paged")} <= set(dms)
    assert set(dms.values()) == {1}, dms
    assert r.incident(1).status == "resolved" and r.incident(1).provisioned_at is not None
    assert "resolved" in r.emu.channels[room].topic and "sev1" in r.emu.channels[room].topic


def test_429_on_every_method_completes_everything_once_with_fast_acks(rig: Rig) -> None:
    r = rig
    for method in FLOW_METHODS:
        r.emu.rate_limit(method, retry_after=1, times=1)
    acks: list[float] = []

    def probe() -> None:
        started = time.monotonic()
        assert r.emu.send_command(r.url, "help").status == 200
        acks.append(time.monotonic() - started)

    with ThreadPoolExecutor(max_workers=1) as pool:
        probing = pool.submit(lambda: [probe() or time.sleep(0.2) for _ in range(10)])
        room = run_incident(r)
        probing.result()
    assert_everything_once(r, room)
    assert max(acks) < 1.0, f"an acknowledgement took {max(acks):.2f}s while Slack rate-limited"
    assert {c.method for c in r.emu.calls if c.status == 429} == set(FLOW_METHODS)


def test_429_beyond_the_clients_retries_is_finished_by_the_sweeper(rig: Rig) -> None:
    r = rig
    # The summary and the announcement are posted at once; each gives up after the client's 3 retries.
    r.emu.rate_limit("chat.postMessage", retry_after=0, times=8)
    r.command("declare sev3 Slow builds")
    assert "is recorded" in r.replies()[-1]
    r.tick_until(lambda: r.incident(1).provisioned_at is not None)
    room = r.room(1)
    assert len(room.messages) == 1 and room.messages[0].ts in room.pins
    assert len(r.emu.channels[r.announce].messages) == 1


Fault = Callable[[Rig], None]


def _server_errors(r: Rig) -> None:
    for method in FLOW_METHODS:
        r.emu.fail(method, status=503, times=None)


def _timeouts(r: Rig) -> None:
    # Slack acts, but answers after the client gave up: the worst case, a side effect we did not record.
    r.emu.set_latency(1.5)


ACTIONS = {
    "declare": "declare sev2 Checkout is timing out",
    "update": "update identified Bad deploy; rolling back",
    "escalate": "escalate sev1 <@U3|carol> <!subteam^S1|@db-oncall>",
    "resolve": "resolve Rolled back",
}
PREPARE = {
    "declare": [],
    "update": [],
    "escalate": ["update identified Bad deploy; rolling back"],
    "resolve": ["assign commander <@U2|bob>", "update monitoring Fix deployed"],
}


@pytest.mark.parametrize("fault", [_server_errors, _timeouts], ids=["5xx", "timeout"])
@pytest.mark.parametrize("action", list(ACTIONS))
def test_slack_outage_during_an_action_completes_once_after_recovery(
    make_rig: Callable[..., Rig], action: str, fault: Fault
) -> None:
    r = make_rig(client_timeout=1)
    room = ""
    if action != "declare":
        r.command(ACTIONS["declare"])
        room = str(r.room(1).id)
        for text in PREPARE[action]:
            r.command(text, channel=room, user="U2")
        assert r.pending_jobs() == 0
    fault(r)
    r.command(ACTIONS[action], channel=room or None, user="U2")
    if action == "escalate":
        # Checking the named people needs Slack before anything is recorded: nothing changes, and the
        # person is told Slack is not answering. They try again once it is.
        assert "escalated" not in r.timeline_kinds(1)
        assert "Slack is not answering" in r.replies()[-1]
        r.emu.clear_faults()
        r.command(ACTIONS[action], channel=room, user="U2")
    elif action == "declare":
        assert "is recorded" in r.replies()[-1]
    r.emu.clear_faults()
    r.tick_until(lambda: r.pending_jobs() == 0, seconds=20)

    room = str(r.room(1).id)
    assert [c.name for c in r.emu.channels.values() if c.name.startswith("inc-")] == [r.room(1).name]
    in_room = posted_kinds(r, room)
    announced = posted_kinds(r, r.announce)
    expected = {
        "incident_declared": 1,
        "incident_update": int(action != "declare"),
        "incident_escalated": int(action == "escalate"),
        "incident_resolved": int(action == "resolve"),
    }
    expected = {k: v for k, v in expected.items() if v}
    # Other kinds (a postmortem draft on resolve, say) may join; none may appear twice.
    assert {k: in_room[k] for k in expected} == expected and set(in_room.values()) == {1}, in_room
    assert {k: announced[k] for k in expected} == expected and set(announced.values()) == {1}, announced
    pages = Counter(
        c.args["channel"]
        for c in r.emu.calls_to("chat.postMessage")
        if c.ok and (c.args.get("metadata") or {}).get("event_type") == "incident_paged"
    )
    assert pages == ({"U3": 1, "U4": 1} if action == "escalate" else {}), pages
    summary = r.emu.channels[room].messages[0]
    assert summary.ts in r.emu.channels[room].pins
    assert r.incident(1).provisioned_at is not None
    assert r.incident(1).status in summary.text.lower() or action == "declare"
