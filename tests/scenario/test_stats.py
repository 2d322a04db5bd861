"""`/incident stats` over signed HTTP against the strict emulator, on the hand-checked insights seed."""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.ops.config import IncidentConfig
from bot.render.charts import CHART_HEIGHT, WIDTH
from commands.insights import build_query
from commands.stats import headline
from store.chart_shares import SqlChartShares
from store.db import make_engine, make_session_factory
from store.insights import SqlInsights
from tests import insights_seed
from tests.scenario.conftest import FakeClock, Harness

# The seed's report clock is 16 March 00:30; asked at midnight, the 30 days hold every seeded incident but
# the one declared at midnight (10): 7 that count (8 is a sev1 from 1 March), a drill and a duplicate.
ASKED_AT = datetime(2026, 3, 16, tzinfo=UTC)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(content: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (which always comes first)."""
    assert content[:8] == PNG_MAGIC, "not a PNG"
    width, height = struct.unpack(">II", content[16:24])
    return width, height


@pytest.fixture
def seeded(configured_harness: Callable[..., Harness], sqlite_url: str) -> tuple[Harness, FakeClock]:
    clock = FakeClock()
    clock.advance(seconds=(ASKED_AT - clock.now()).total_seconds())
    h = configured_harness(insights_seed.CONFIG, clock)
    insights_seed.seed(sqlite_url)
    return h, clock


def charts_in(h: Harness, channel: str, wait: float = 5.0) -> list[object]:
    """The completed uploads shared in `channel` (Slack shows a share a moment after completing it)."""
    deadline = time.monotonic() + wait
    while True:
        files = [f for f in h.emu.files.values() if f.completed and channel in f.channel_ids]
        if len(files) >= 3 or time.monotonic() > deadline:
            return files
        time.sleep(0.05)


def answer_to(h: Harness, text: str, channel: str | None = None) -> str:
    """The reply to a command (an empty ack, then the answer by response_url)."""
    before = len(h.replies())
    assert h.command(text, channel=channel).status == 200
    (answer,) = h.replies()[before:]
    return answer


def run_tick(h: Harness) -> None:
    h.bot.runtime.tick()
    h.settle()


def test_stats_replies_with_the_figures_and_shares_three_charts_once(
    seeded: tuple[Harness, FakeClock], sqlite_url: str
) -> None:
    h, _clock = seeded
    answer = answer_to(h, "stats", h.general)
    assert "*Incidents, last 30 days*" in answer
    assert "7 incidents (1 still open) by severity: sev1 3 · sev2 2 · sev3 1 · sev9 1" in answer
    assert "Not counted: 1 drill, 1 duplicate" in answer
    assert "Action items: 3 open (1 overdue), 1 done" in answer
    assert "Incident 1" not in answer, "titles are never shown, private or not"
    # Every figure is the report's: the same SQL over the same period says the same.
    engine = make_engine(sqlite_url)
    try:
        query = build_query(
            since=ASKED_AT - timedelta(days=30), until=ASKED_AT, now=ASKED_AT, settings=insights_seed.CONFIG
        )
        expected = SqlInsights(make_session_factory(engine)).read(query)
    finally:
        engine.dispose()
    assert answer.startswith(headline(expected, 30, severities=insights_seed.CONFIG.severity_names()))

    assert h.emu.calls_to("files.completeUploadExternal") == [], "the charts are the worker's, on the tick"
    run_tick(h)
    files = charts_in(h, h.general)
    assert sorted(f.title for f in files) == [  # type: ignore[attr-defined]
        "Incidents per week, by severity",
        "Share within target",
        "Time to resolve",
    ]
    for f in files:
        assert png_size(f.content) == (WIDTH, CHART_HEIGHT)  # type: ignore[attr-defined]
        assert len(f.content) > 5_000, "a plot, not an empty canvas"  # type: ignore[attr-defined]
    shares = [m for m in h.emu.channels[h.general].messages if m.files]
    assert "asked for by <@U1>" in shares[0].text
    run_tick(h)
    run_tick(h)
    assert len(h.emu.calls_to("files.completeUploadExternal")) == 3, "a finished share is never run again"


def test_private_incidents_are_counted_never_named(configured_harness: Callable[..., Harness]) -> None:
    clock = FakeClock()
    h = configured_harness(IncidentConfig(), clock)
    h.command("declare --private sev1 Payroll secret leak")
    clock.advance(minutes=1)  # the period ends when asked, exclusively
    answer = answer_to(h, "stats 7d")
    assert "1 incident (1 still open)" in answer
    assert "Payroll" not in answer
    run_tick(h)
    assert len(charts_in(h, h.general)) == 3
    shared = [m for m in h.emu.channels[h.general].messages if m.files]
    assert shared and all("Payroll" not in m.text for m in shared)
    assert all(b"Payroll" not in f.content for f in h.emu.files.values())


def test_an_unknown_period_is_refused_and_nothing_is_shared(seeded: tuple[Harness, FakeClock]) -> None:
    h, _clock = seeded
    answer = h.command("stats 14d").json()["text"]  # refused in the ack itself
    assert "`14d` is not a period I report on: use 7d, 30d or 90d." in answer
    assert "/incident stats [7d|30d|90d]" in answer
    run_tick(h)
    assert h.emu.calls_to("files.getUploadURLExternal") == []


def test_charts_asked_for_where_the_bot_is_not_are_refused_and_the_asker_told(
    seeded: tuple[Harness, FakeClock],
) -> None:
    h, _clock = seeded
    elsewhere = h.emu.add_channel("random", members={"U1"}, bot_member=False)
    answer = answer_to(h, "stats 90d", elsewhere)
    assert "last 90 days" in answer
    run_tick(h)
    assert not [f for f in h.emu.files.values() if f.completed]
    told = [c for c in h.emu.calls_to("chat.postMessage") if c.args.get("channel") == "U1"]
    assert told and "could not share the incident charts" in str(told[-1].args.get("text"))
    run_tick(h)
    assert len(h.emu.calls_to("files.completeUploadExternal")) == 1, "a refusal is not retried"


def test_a_share_cut_off_after_an_upload_resumes_without_uploading_it_again(
    seeded: tuple[Harness, FakeClock], monkeypatch: pytest.MonkeyPatch
) -> None:
    h, clock = seeded
    real = SqlChartShares.record_file
    cut = {"left": 1}

    def dies_once(self: SqlChartShares, share_id: int, chart: str, file_id: str) -> None:
        if cut["left"]:
            cut["left"] -= 1
            raise RuntimeError("process killed after the upload, before recording it")
        real(self, share_id, chart, file_id)

    monkeypatch.setattr(SqlChartShares, "record_file", dies_once)
    h.command("stats 30d")
    with pytest.raises(RuntimeError):
        run_tick(h)
    assert len(charts_in(h, h.general, wait=2.0)) == 1, "the first chart landed, unrecorded"
    run_tick(h)
    assert len(h.emu.calls_to("files.getUploadURLExternal")) == 1, "the share's lease still holds"
    clock.advance(minutes=3)  # the lease runs out: another process takes the share over
    run_tick(h)
    assert len(charts_in(h, h.general)) == 3
    assert len(h.emu.calls_to("files.getUploadURLExternal")) == 3, "the landed chart was found, not re-sent"
