"""Stale nudges and archiving, over HTTP against the strict emulator, with a clock the test moves."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from bot.app import IncidentBot, create_app
from bot.ops.config import IncidentConfig
from bot.ops.settings import Settings
from bot.slack.ids import ActionId
from tests.scenario.conftest import FakeClock, Harness

STALE = "incident_stale"
ARCHIVED = "incident_archived"
DAY = timedelta(days=1)


@pytest.fixture
def clocked(configured_harness: Callable[..., Harness]) -> tuple[Harness, FakeClock]:
    clock = FakeClock()
    return configured_harness(IncidentConfig(), clock), clock  # sev2: stale after 24h; archive after 7d


def posts(h: Harness, channel: str, event_type: str) -> list[Any]:
    return [m for m in h.emu.channels[channel].messages if (m.metadata or {}).get("event_type") == event_type]


def tick(h: Harness, clock: FakeClock, **delta: float) -> None:
    clock.advance(**delta)
    h.bot.runtime.tick()
    h.settle()


def test_a_quiet_incident_is_nudged_once_per_quiet_period(clocked: tuple[Harness, FakeClock]) -> None:
    h, clock = clocked
    h.command("declare sev2 Checkout is timing out")
    room = h.room(1).id
    tick(h, clock, hours=23, minutes=59)  # update reminders are posted meanwhile: they are not activity
    assert posts(h, room, STALE) == []
    tick(h, clock, minutes=2)
    (nudge,) = posts(h, room, STALE)
    assert "<@U1>" in nudge.text and "1d" in nudge.text, (
        "no commander: the declarer is asked, and for how long"
    )
    assert nudge.metadata["event_payload"]["incident"] == "INC-1"
    assert [e["action_id"] for e in nudge.blocks[-1]["elements"]] == [
        ActionId.OPEN_UPDATE,
        ActionId.STALE_RESOLVE,
    ]
    tick(h, clock, hours=1)
    assert len(posts(h, room, STALE)) == 1, "the nudge is not activity, and it moved the next one a day on"
    tick(h, clock, hours=23, minutes=1)
    second = posts(h, room, STALE)[-1]
    assert len(posts(h, room, STALE)) == 2 and "2d" in second.text, "still quiet since the declaration"
    assert h.timeline_kinds(1).count("stale_nudge") == 2


def test_activity_in_the_room_postpones_the_nudge_and_it_goes_to_the_commander(
    clocked: tuple[Harness, FakeClock],
) -> None:
    h, clock = clocked
    h.command("declare --private sev2 Payroll export failing")  # private rooms behave the same
    room = h.room(1).id
    tick(h, clock, hours=20)
    h.command("note Vendor says it is on their side", channel=room)
    tick(h, clock, hours=20)
    h.command("assign commander <@U3|carol>", channel=room)
    tick(h, clock, hours=20)
    h.command("update Waiting on the vendor", channel=room)
    tick(h, clock, hours=23, minutes=59)
    assert posts(h, room, STALE) == []
    tick(h, clock, minutes=2)
    (nudge,) = posts(h, room, STALE)
    assert "<@U3>" in nudge.text and "<@U1>" not in nudge.text


def test_the_nudges_buttons_open_the_update_form_and_resolve_under_the_resolve_rule(
    clocked: tuple[Harness, FakeClock],
) -> None:
    h, clock = clocked
    h.command("declare sev2 Checkout is timing out")
    room = h.room(1).id
    h.command("assign commander <@U3|carol>", channel=room)
    tick(h, clock, days=1, minutes=1)
    (nudge,) = posts(h, room, STALE)

    def click(user: str, action: str) -> dict[str, Any]:
        sent: list[dict[str, Any]] = []
        deliver = h.emu.send_interaction

        def recording(url: str, payload: dict[str, Any], **kw: Any) -> Any:
            sent.append(payload)
            return deliver(url, payload, **kw)

        h.emu.send_interaction = recording  # type: ignore[method-assign]
        try:
            h.emu.click_button(
                h.url, user_id=user, channel_id=room, message_ts=nudge.ts, action_id=action, value="1"
            )
        finally:
            del h.emu.send_interaction
        h.settle()
        return sent[0]

    click("U3", ActionId.OPEN_UPDATE)
    (opened,) = h.emu.calls_to("views.open")
    assert opened.args["view"]["callback_id"] == "post_update_modal"

    click("U2", ActionId.STALE_RESOLVE)  # not the commander: refused as /incident resolve would be
    assert h.incident(1).status != "resolved"
    assert "commander" in h.replies()[-1]

    payload = click("U3", ActionId.STALE_RESOLVE)
    resolved = h.incident(1)
    assert (resolved.status, resolved.resolved_by, resolved.resolution_summary) == ("resolved", "U3", None)
    assert h.emu.send_interaction(h.url, payload, retry_num=1).status == 200  # Slack's retry acts once
    h.settle()
    assert h.timeline_kinds(1).count("resolved") == 1
    assert len(posts(h, room, "incident_resolved")) == 1
    tick(h, clock, days=2)
    assert len(posts(h, room, STALE)) == 1, "a resolved incident is never nudged"


def resolved_room(h: Harness, summary: str = "") -> str:
    """Declare INC-1 and resolve it as its commander; returns its room."""
    h.command("declare sev2 Checkout is timing out")
    room = str(h.room(1).id)
    h.command("assign commander <@U1|alice>", channel=room)
    h.command(f"resolve {summary}".strip(), channel=room)
    assert h.incident(1).status == "resolved"
    return room


def test_a_resolved_room_is_told_then_archived_once(clocked: tuple[Harness, FakeClock]) -> None:
    h, clock = clocked
    room = resolved_room(h, "Rolled back the deploy")
    tick(h, clock, days=7, minutes=-1)
    assert not h.emu.channels[room].archived and posts(h, room, ARCHIVED) == []
    tick(h, clock, minutes=2)
    (notice,) = posts(h, room, ARCHIVED)
    assert "archiving this room" in notice.text and "/incident reopen" in notice.text
    assert h.emu.channels[room].archived
    assert len(h.emu.calls_to("conversations.archive")) == 1
    assert h.incident(1).archived_at is not None and h.incident(1).archive_due_at is None
    assert "room_archived" in h.timeline_kinds(1)
    tick(h, clock, days=30)
    assert len(h.emu.calls_to("conversations.archive")) == 1


def test_a_room_archived_by_hand_is_done_without_a_notice(clocked: tuple[Harness, FakeClock]) -> None:
    h, clock = clocked
    room = resolved_room(h)
    h.emu.channels[room].archived = True  # someone archived it in Slack already
    tick(h, clock, days=7, minutes=1)
    assert posts(h, room, ARCHIVED) == []
    assert h.incident(1).archived_at is not None  # already_archived counts as done


def test_a_reopened_incident_is_not_archived(clocked: tuple[Harness, FakeClock]) -> None:
    h, clock = clocked
    room = resolved_room(h)
    tick(h, clock, days=3)
    with h.bot.runtime.uow() as tx:  # a reopen (another feature), even one that left the archive time set
        tx.incidents.update_columns(1, {"status": "investigating", "resolved_at": None})
        tx.commit()
    tick(h, clock, days=5)
    assert not h.emu.channels[room].archived and posts(h, room, ARCHIVED) == []
    assert h.emu.calls_to("conversations.archive") == []


def test_a_refused_archive_tells_the_room_once(clocked: tuple[Harness, FakeClock]) -> None:
    h, clock = clocked
    room = resolved_room(h)
    h.emu.error("conversations.archive", "restricted_action", times=None)
    tick(h, clock, days=7, minutes=1)
    tick(h, clock, minutes=10)
    failed = posts(h, room, "incident_job_failed")
    assert len(failed) == 1 and "archive the war room" in failed[0].text and "Slack admin" in failed[0].text
    assert len(h.emu.calls_to("conversations.archive")) == 1, "a refusal no retry fixes is not retried"
    assert h.incident(1).archived_at is None


@pytest.fixture
def second_replica(clocked: tuple[Harness, FakeClock], sqlite_url: str) -> Iterator[IncidentBot]:
    """Another process on the same database and workspace, with the same clock (it only ticks)."""
    h, clock = clocked
    settings = Settings(
        slack_bot_token=SecretStr(h.emu.bot_token),
        slack_signing_secret=SecretStr(h.emu.signing_secret),
        slack_api_url=h.emu.api_url,
        database_url=sqlite_url,
    )
    bot = create_app(settings, IncidentConfig(), lease=timedelta(seconds=30), clock=clock)
    try:
        yield bot
    finally:
        bot.close()


def test_two_replicas_ticking_at_once_nudge_and_archive_once(
    clocked: tuple[Harness, FakeClock], second_replica: IncidentBot
) -> None:
    h, clock = clocked
    archived_room = resolved_room(h)
    h.command("declare sev2 Search is slow")
    stale_room = h.room(2).id
    clock.advance(days=7, minutes=1)
    barrier = threading.Barrier(2)

    def replica_tick(bot: IncidentBot) -> None:
        barrier.wait(timeout=10)
        bot.runtime.tick()

    threads = [threading.Thread(target=replica_tick, args=(b,)) for b in (h.bot, second_replica)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    h.settle()
    second_replica.runtime.drain()
    assert len(posts(h, stale_room, STALE)) == 1
    assert len(posts(h, archived_room, ARCHIVED)) == 1
    assert len(h.emu.calls_to("conversations.archive")) == 1
