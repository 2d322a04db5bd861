"""Slack retries: the same event or interaction delivered four times acts once, on any replica."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.ops.config import IncidentConfig
from bot.ops.maintenance import DELIVERY_RETENTION, expire_deliveries
from bot.slack.ids import ActionId, BlockId
from bot.slack.manifest import CallbackId
from store.models import ProcessedDelivery
from tests.reliability import payloads
from tests.reliability.conftest import Rig, open_rig

RETRIES = (None, 1, 2, 3)  # the first delivery, then X-Slack-Retry-Num 1 to 3


@pytest.fixture
def two_replicas(db_url: str) -> Iterator[Rig]:
    """Two bots on one database, as two web dynos behind Slack's request URL."""
    yield from open_rig(
        db_url, IncidentConfig(timeline_reactions={"pushpin": "pin", "memo": "action"}), replicas=2
    )


def _room_with_message(r: Rig) -> tuple[str, str]:
    r.command("declare sev2 Checkout is timing out")
    room = str(r.room(1).id)
    r.emu.channels[room].members.add("U3")
    return room, r.emu.post_as_user(room, "U3", "Failing over the primary")


def _deliver_interaction(r: Rig, payload: dict[str, Any]) -> list[int]:
    """Deliver one interaction four times, alternating replicas, like Slack retrying a slow answer."""
    statuses = []
    for n, retry in enumerate(RETRIES):
        url = r.replicas[n % len(r.replicas)].url
        statuses.append(r.emu.send_interaction(url, payload, retry_num=retry).status)
    r.settle()
    return statuses


def _deliveries(r: Rig) -> list[str]:
    with r.bot.runtime.uow() as tx:
        return list(tx.session.scalars(tx.session.query(ProcessedDelivery.key).statement))


def test_retried_reactions_act_once_across_replicas(two_replicas: Rig) -> None:
    r = two_replicas
    room, ts = _room_with_message(r)
    for reaction, event_id in (("pushpin", "EvPIN"), ("memo", "EvMEMO")):
        event = {"type": "reaction_added", "user": "U1", "reaction": reaction, "item": {}}
        event["item"] = {"type": "message", "channel": room, "ts": ts}
        r.emu.add_reaction(room, ts, reaction, "U1")
        for n, retry in enumerate(RETRIES):
            url = r.replicas[n % 2].url
            assert r.emu.send_event(url, event, event_id=event_id, retry_num=retry).status == 200
        r.settle()
    kinds = r.timeline_kinds(1)
    assert kinds.count("pinned") == 1 and kinds.count("action_item") == 1
    with r.bot.runtime.uow() as tx:
        assert len(tx.action_items.list_for(1)) == 1
    assert {"event:EvPIN", "event:EvMEMO"} <= set(_deliveries(r)), "the record lives in the database"


def test_retried_update_submission_posts_one_update(two_replicas: Rig) -> None:
    r = two_replicas
    room, _ = _room_with_message(r)
    r.command("update", channel=room)
    view_id = next(iter(r.emu.views))
    payload = payloads.view_submission(r.emu, view_id, payloads.update_values("Rolled back"), user="U2")
    assert _deliver_interaction(r, payload) == [200] * 4
    assert r.timeline_kinds(1).count("update_posted") == 1
    posts = [m for m in r.emu.channels[room].messages if "Rolled back" in m.text]
    assert len(posts) == 1
    assert len([m for m in r.emu.channels[r.announce].messages if "Rolled back" in m.text]) == 1


def test_retried_assign_submission_assigns_and_briefs_once(two_replicas: Rig) -> None:
    r = two_replicas
    room, summary_ts = _room_with_message(r)
    click = payloads.block_action(
        r.emu, user="U1", channel=room, message_ts=summary_ts, action_id=ActionId.OPEN_ASSIGN, value="1"
    )
    r.emu.send_interaction(r.url, click)
    r.settle()
    values = {
        BlockId.ROLE: {ActionId.ROLE: {"type": "static_select", "selected_option": {"value": "comms"}}},
        BlockId.ASSIGNEE: {ActionId.ASSIGNEE: {"type": "users_select", "selected_user": "U3"}},
    }
    payload = payloads.view_submission(r.emu, list(r.emu.views)[-1], values, user="U1")
    assert _deliver_interaction(r, payload) == [200] * 4
    assert r.timeline_kinds(1).count("role_assigned") == 1
    briefings = [c for c in r.emu.calls_to("chat.postMessage") if c.args.get("channel") == "U3"]
    assert len(briefings) == 1
    assert len([t for t in r.emu.calls_to("chat.postEphemeral") if "is now comms" in t.args["text"]]) == 1


def test_retried_declare_submission_declares_once(two_replicas: Rig) -> None:
    r = two_replicas
    r.command("declare")
    view_id = next(iter(r.emu.views))
    payload = payloads.view_submission(r.emu, view_id, payloads.declare_values("Login broken"), user="U2")
    _deliver_interaction(r, payload)
    assert len(r.incidents()) == 1
    assert len(r.emu.calls_to("conversations.create")) == 1


def test_retried_button_click_opens_one_modal_and_says_nothing_twice(two_replicas: Rig) -> None:
    r = two_replicas
    room, _ = _room_with_message(r)
    summary = r.emu.channels[room].messages[0]
    payload = payloads.block_action(
        r.emu, user="U1", channel=room, message_ts=summary.ts, action_id=ActionId.OPEN_UPDATE, value="1"
    )
    before = len(r.emu.responses)
    _deliver_interaction(r, payload)
    assert len(r.emu.calls_to("views.open")) == 1, "a retry neither reopens the form nor reports its trigger"
    assert len(r.emu.responses) == before


def test_retried_join_button_invites_once(two_replicas: Rig) -> None:
    r = two_replicas
    room, _ = _room_with_message(r)
    r.command("escalate <@U4|dave>", channel=room)  # only someone paged may join
    r.emu.channels[room].members.discard("U4")  # ... and has left since
    invites = len([c for c in r.emu.calls_to("conversations.invite") if c.args["users"] == "U4"])
    payload = payloads.block_action(
        r.emu, user="U4", channel="D0U4", message_ts="1.0", action_id=ActionId.JOIN_ROOM, value="1"
    )
    _deliver_interaction(r, payload)
    assert "U4" in r.emu.channels[room].members
    assert len([c for c in r.emu.calls_to("conversations.invite") if c.args["users"] == "U4"]) == invites + 1
    assert len([t for t in r.replies() if "You are in" in t]) == 1


def test_retried_shortcuts_act_once(two_replicas: Rig) -> None:
    r = two_replicas
    room, ts = _room_with_message(r)
    message = payloads.message_shortcut(
        r.emu, CallbackId.ADD_TO_TIMELINE, user="U1", channel=room, ts=ts, text="Failing over the primary"
    )
    _deliver_interaction(r, message)
    assert r.timeline_kinds(1).count("pinned") == 1
    assert [t for t in r.replies() if "timeline" in t] == [":pushpin: Added to the timeline."]

    opened = len(r.emu.calls_to("views.open"))
    _deliver_interaction(r, payloads.global_shortcut(r.emu, CallbackId.DECLARE_INCIDENT, user="U2"))
    assert len(r.emu.calls_to("views.open")) == opened + 1
    assert r.emu.calls_to("chat.postEphemeral") == [], "no 'could not open the form' for a retry"


def test_delivery_records_expire_after_the_retry_window(uow_factory: Any) -> None:
    now = datetime.now(UTC)

    class Clock:
        def now(self) -> datetime:
            return now

    with uow_factory() as tx:
        assert tx.deliveries.first_time("event:old", now - DELIVERY_RETENTION - timedelta(minutes=1))
        assert tx.deliveries.first_time("event:recent", now - timedelta(minutes=5))
        tx.commit()
    assert expire_deliveries(uow_factory, Clock()) == 1
    with uow_factory() as tx:
        assert not tx.deliveries.first_time("event:recent", now), "still inside the window: still a retry"
        assert tx.deliveries.first_time("event:old", now), "forgotten once past the window"
