"""The periodic tick applies [retention] to a real incident: pinned text and old Slack jobs go in time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bot.ops.config import IncidentConfig, RetentionConfig
from bot.ops.export import export_record
from bot.render.postmortem import PostmortemDrafts
from store.models import SlackJob
from store.retention import PRUNED_TEXT
from tests.scenario.conftest import FakeClock, Harness

SECRET = "the root password is hunter2"


def jobs(h: Harness) -> int:
    with h.bot.runtime.uow() as tx:
        return int(tx.session.scalar(select(func.count()).select_from(SlackJob)) or 0)


def test_tick_removes_pinned_text_after_the_retention_and_old_jobs_after_theirs(
    configured_harness: Any,
) -> None:
    clock = FakeClock()
    retention = RetentionConfig(timeline_text=timedelta(days=90), finished_jobs=timedelta(days=30))
    h: Harness = configured_harness(IncidentConfig(retention=retention), clock)
    h.command("declare sev2 Checkout is timing out")
    room = str(h.room(1).id)
    h.emu.channels[room].members.add("U3")
    ts = h.emu.post_as_user(room, "U3", SECRET)
    h.emu.react(h.url, user_id="U1", channel_id=room, ts=ts)
    h.command("note rolled back", channel=room)
    h.command("assign commander <@U1|alice>", channel=room)
    h.command("resolve fixed", channel=room)
    h.command("postmortem status published", channel=room)  # no owner's reminder, no daily refresh jobs
    assert h.incident(1).status == "resolved"
    assert jobs(h) >= 3

    clock.advance(days=31)
    h.bot.runtime.tick()
    h.settle()
    assert jobs(h) == 1  # the newest job is kept: its id must never be handed out again
    assert SECRET in [e.text for e in h.timeline(1)]

    clock.advance(days=60)
    h.bot.runtime.tick()
    texts = {e.kind: e.text for e in h.timeline(1)}
    assert texts["pinned"] == texts["note"] == PRUNED_TEXT
    assert texts["resolved"] == "Resolved: fixed"
    pm = PostmortemDrafts.for_config(h.bot.runtime.uow, IncidentConfig()).data(1)
    assert pm is not None and SECRET not in str(export_record(pm))
    assert pm.pins[0].permalink and pm.pins[0].author == "U3"
