"""Declares and other changes are committed before their ack; a slow database is answered in time."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

from bot.pipeline.replies import TRY_AGAIN
from tests.reliability import payloads
from tests.reliability.conftest import Rig, open_rig

BUDGET = 0.3  # seconds; the production default is 1 s


@pytest.fixture
def sqlite_rig(sqlite_url: str) -> Iterator[Rig]:
    for r in open_rig(sqlite_url):
        r.bot.runtime.record_budget = BUDGET
        yield r


@pytest.fixture
def postgres_rig(postgres_url: str) -> Iterator[Rig]:
    for r in open_rig(postgres_url):
        r.bot.runtime.record_budget = BUDGET
        yield r


def _write_lock(sqlite_url: str) -> sqlite3.Connection:
    """Another writer holding SQLite's write lock: the bot's INSERT waits (busy timeout) until released."""
    holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_declare_is_in_the_database_when_it_is_acknowledged(any_db_rig: Rig) -> None:
    r = any_db_rig
    ack = r.command("declare sev2 Checkout is timing out", settle=False)
    assert ack.json()["text"].startswith(":rotating_light: Declared *INC-1*: Checkout is timing out.")
    assert [i.title for i in r.incidents()] == ["Checkout is timing out"]
    r.settle()
    room = r.room(1)
    assert f"<#{room.id}>" in r.replies()[-1]


def test_declare_slower_than_the_budget_is_answered_in_time_then_confirmed_once(
    sqlite_rig: Rig, sqlite_url: str
) -> None:
    r = sqlite_rig
    holder = _write_lock(sqlite_url)
    try:
        started = time.monotonic()
        ack = r.command("declare sev2 Slow database", settle=False)
        waited = time.monotonic() - started
        assert ack.status == 200
        assert (
            "taking longer than usual" in ack.json()["text"]
            and "treat it as not declared" in ack.json()["text"]
        )
        assert BUDGET <= waited < 3.0, "answered once the budget ran out, inside Slack's 3 s"
        assert holder.execute("SELECT count(*) FROM incidents").fetchone() == (0,)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    r.settle()
    assert [i.title for i in r.incidents()] == ["Slow database"]
    assert r.incident(1).provisioned_at is not None
    assert "Declared *INC-1*: Slow database. War room: <#" in r.replies()[-1]
    assert len(r.emu.calls_to("conversations.create")) == 1


def test_declare_form_slower_than_the_budget_closes_and_confirms_by_dm(
    sqlite_rig: Rig, sqlite_url: str
) -> None:
    r = sqlite_rig
    r.command("declare")
    view_id = next(iter(r.emu.views))
    payload = payloads.view_submission(r.emu, view_id, payloads.declare_values("Slow form"), user="U2")
    holder = _write_lock(sqlite_url)
    try:
        result = r.emu.send_interaction(r.url, payload)
        assert result.status == 200 and result.json() is None, "the form closes"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    r.settle()
    dms = [c.args["text"] for c in r.emu.calls_to("chat.postMessage") if c.args.get("channel") == "U2"]
    assert "taking longer than usual" in dms[0]
    assert "Declared *INC-1*: Slow form. War room: <#" in dms[-1]
    assert [i.title for i in r.incidents()] == ["Slow form"]


def test_declare_failing_after_the_budget_tells_the_declarer_and_records_nothing(postgres_rig: Rig) -> None:
    r = postgres_rig
    url = make_url(r.bot.engine.url).set(drivername="postgresql")
    dsn = url.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=False) as holder:
        holder.execute("LOCK TABLE incidents IN ACCESS EXCLUSIVE MODE")
        ack = r.command("declare sev1 Lost connection", settle=False)
        assert "taking longer than usual" in ack.json()["text"]
        # The bot's INSERT is waiting for the lock; its connection dies under it.
        with psycopg.connect(dsn, autocommit=True) as admin:
            blocked = admin.execute(
                "SELECT pid FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            ).fetchall()
            assert len(blocked) == 1
            admin.execute("SELECT pg_terminate_backend(%s)", blocked[0])
        holder.rollback()
    r.settle()
    assert r.replies()[-1] == TRY_AGAIN
    assert r.incidents() == []
    assert not r.emu.calls_to("conversations.create")
    r.command("declare sev1 Lost connection")
    assert [i.title for i in r.incidents()] == ["Lost connection"]
    assert r.incident(1).provisioned_at is not None


def test_note_slower_than_the_budget_is_answered_in_time_then_confirmed_once(
    sqlite_rig: Rig, sqlite_url: str
) -> None:
    r = sqlite_rig
    r.command("declare sev2 Checkout is timing out")
    room = str(r.room(1).id)
    holder = _write_lock(sqlite_url)
    try:
        ack = r.command("note Failing over the primary", channel=room, settle=False)
        assert ack.status == 200 and "taking longer than usual" in ack.json()["text"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    r.settle()
    assert r.replies()[-1] == ":memo: Added to the INC-1 timeline."
    assert r.timeline_kinds(1).count("note") == 1


def test_update_is_in_the_database_when_it_is_acknowledged(any_db_rig: Rig) -> None:
    r = any_db_rig
    r.command("declare sev2 Checkout is timing out")
    room = str(r.room(1).id)
    r.emu.set_latency(0.5)  # the posting is still under way when we look
    ack = r.command("update identified Bad deploy; rolling back", channel=room, settle=False)
    assert ack.status == 200 and ack.json() is None, "acknowledged in time, with nothing to show yet"
    assert r.timeline_kinds(1).count("update_posted") == 1, "committed before the ack"
    r.emu.set_latency(0)
    r.settle()
    assert "Update for INC-1 posted to the war room" in r.replies()[-1]


def test_update_form_slower_than_the_budget_closes_then_confirms_once(
    sqlite_rig: Rig, sqlite_url: str
) -> None:
    from bot.slack.ids import ActionId

    r = sqlite_rig
    r.command("declare sev2 Checkout is timing out")
    room = str(r.room(1).id)
    summary = r.emu.channels[room].messages[0].ts
    click = payloads.block_action(
        r.emu, user="U2", channel=room, message_ts=summary, action_id=ActionId.OPEN_UPDATE, value="1"
    )
    r.emu.send_interaction(r.url, click)
    r.settle()
    form = payloads.view_submission(r.emu, list(r.emu.views)[-1], payloads.update_values("Slow"), user="U2")
    holder = _write_lock(sqlite_url)
    try:
        assert r.emu.send_interaction(r.url, form).json() is None, "the form closes"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    r.settle()
    told = [c.args["text"] for c in r.emu.calls_to("chat.postEphemeral") if c.args.get("user") == "U2"]
    assert "taking longer than usual" in told[-2] and "Update for INC-1 posted" in told[-1]
    assert r.timeline_kinds(1).count("update_posted") == 1
