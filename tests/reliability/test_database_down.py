"""PostgreSQL stops: commands say "try again", nothing is half written, /healthz is 503, and it recovers."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.pipeline.replies import TRY_AGAIN
from bot.slack.ids import ActionId, BlockId
from store.models import SlackJob
from tests.reliability import payloads
from tests.reliability.conftest import Rig, open_rig
from tests.reliability.throwaway_postgres import Cluster, throwaway_cluster


def _health(r: Rig) -> int:
    try:
        with urllib.request.urlopen(r.base_url + "/healthz", timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return err.code


OUTAGE_SECONDS = 30


def _declare_is_refused_at_once(r: Rig, title: str) -> None:
    started = time.monotonic()
    ack = r.command(f"declare sev1 {title}", settle=False)
    # The declare is committed before its ack, so the ack itself carries the answer; a refused
    # connection fails fast, well inside the ack's budget.
    assert ack.status == 200 and time.monotonic() - started < 1.0
    assert ack.json()["text"] == TRY_AGAIN


@pytest.fixture
def cluster_rig() -> Iterator[tuple[Cluster, Rig]]:
    with throwaway_cluster() as cluster:
        for r in open_rig(cluster.url):
            yield cluster, r


def test_database_outage_is_reported_changes_nothing_and_heals(cluster_rig: tuple[Cluster, Rig]) -> None:
    cluster, r = cluster_rig
    r.command("declare sev2 Before the outage")
    r.command("declare")  # the declare form, submitted during the outage
    declare_form = next(iter(r.emu.views))
    room = str(r.room(1).id)
    summary_ts = r.emu.channels[room].messages[0].ts
    open_update = payloads.block_action(
        r.emu, user="U2", channel=room, message_ts=summary_ts, action_id=ActionId.OPEN_UPDATE, value="1"
    )
    r.emu.send_interaction(r.url, open_update)  # the update form, submitted during the outage
    r.settle()
    update_form = list(r.emu.views)[-1]
    assert update_form != declare_form
    assert _health(r) == 200
    r.bot.start_ticker()  # the periodic tick keeps failing through the outage and must survive it

    cluster.stop()
    stopped = time.monotonic()
    try:
        assert _health(r) == 503
        _declare_is_refused_at_once(r, "During the outage")
        form = payloads.view_submission(
            r.emu, declare_form, payloads.declare_values("Form outage"), user="U2"
        )
        kept_open = r.emu.send_interaction(r.url, form).json()
        assert kept_open == {
            "response_action": "errors",
            "errors": {BlockId.TITLE: TRY_AGAIN.removeprefix(":warning: ")},
        }, "the form stays open with what they typed, and says why"
        form = payloads.view_submission(r.emu, update_form, payloads.update_values("Still down"), user="U2")
        assert r.emu.send_interaction(r.url, form).json() == {
            "response_action": "errors",
            "errors": {BlockId.MESSAGE: TRY_AGAIN.removeprefix(":warning: ")},
        }, "so does the update form"
        for text, channel in (("list", None), ("update identified Still down", room), ("note hi", room)):
            assert r.command(text, channel=channel).status == 200
            assert r.replies()[-1] == TRY_AGAIN, text
        click = payloads.block_action(
            r.emu, user="U2", channel=room, message_ts=summary_ts, action_id=ActionId.OPEN_UPDATE, value="1"
        )
        assert r.emu.send_interaction(r.url, click).status == 200
        r.settle()
        assert r.replies()[-1] == TRY_AGAIN
        event = {"type": "reaction_added", "user": "U1", "reaction": "pushpin"}
        event["item"] = {"type": "message", "channel": room, "ts": summary_ts}  # type: ignore[assignment]
        r.emu.add_reaction(room, summary_ts, "pushpin", "U1")
        # Not a 200: Slack will deliver the reaction again (after about 1 and 5 minutes).
        assert r.emu.send_event(r.url, event, event_id="EvOutage").status == 500
        r.settle()
        # The promise is 30 s: keep asking (and the tick keeps running) until the outage is that old.
        while time.monotonic() - stopped < OUTAGE_SECONDS:
            time.sleep(5)
            assert _health(r) == 503
            _declare_is_refused_at_once(r, "Still during the outage")
    finally:
        cluster.start()

    deadline = time.monotonic() + 15
    while _health(r) != 200:
        assert time.monotonic() < deadline, "the bot did not recover by itself"
        time.sleep(0.2)
    # Slack fails the first room beyond the client's retries, so only the periodic tick, which kept
    # failing for 30 s, can finish it: it must still be running.
    r.emu.fail("conversations.create", status=503, times=4)
    r.command("declare sev2 After the outage")
    titles = [i.title for i in r.incidents()]
    assert titles == ["Before the outage", "After the outage"], "nothing half written"
    deadline = time.monotonic() + 20
    while r.incident(2).provisioned_at is None:
        assert time.monotonic() < deadline, "the tick did not survive the outage"
        time.sleep(0.2)
    with r.bot.runtime.uow() as tx:
        [job] = tx.session.scalars(select(SlackJob).where(SlackJob.incident_id == 2)).all()
        assert job.attempts > 1, "the room was finished by the tick, not by the declare's own run"
    assert r.timeline_kinds(1).count("update_posted") == 0 and "note" not in r.timeline_kinds(1)
    assert "pinned" not in r.timeline_kinds(1)
    # Slack's retry of the reaction, once the database is back, records it; a further retry does not.
    for retry in (1, 2):
        assert r.emu.send_event(r.url, event, event_id="EvOutage", retry_num=retry).status == 200
        r.settle()
    assert r.timeline_kinds(1).count("pinned") == 1
    assert len([c for c in r.emu.channels.values() if c.name.startswith("inc-")]) == 2
