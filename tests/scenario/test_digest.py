"""The weekly digest over the real app and the strict emulator, with a clock the test moves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.ops.config import IncidentConfig
from tests import insights_seed
from tests.scenario.conftest import FakeClock, Harness
from tests.scenario.test_stats import charts_in, png_size, run_tick

# Monday 16 March 2026 (the seed's report day), 08:00 UTC; the digest is due at 09:00.
MONDAY_8AM = datetime(2026, 3, 16, 8, 0, tzinfo=UTC)
CONFIG = insights_seed.CONFIG.model_copy(
    update={"digest_channel": "incident-digest", "digest_at": "mon 09:00"}
)
DIGEST = "incident_digest"


def digests(h: Harness, channel: str) -> list[Any]:
    return [m for m in h.emu.channels[channel].messages if (m.metadata or {}).get("event_type") == DIGEST]


def start(
    make: Callable[..., Harness], at: datetime, config: IncidentConfig = CONFIG
) -> tuple[Harness, FakeClock, str]:
    clock = FakeClock()
    clock.advance(seconds=(at - clock.now()).total_seconds())
    h = make(config, clock)
    channel = h.emu.add_channel("incident-digest", members={"U1"})
    return h, clock, channel


def test_the_digest_is_posted_once_at_its_moment_with_the_weeks_figures_and_charts(
    configured_harness: Callable[..., Harness], sqlite_url: str
) -> None:
    h, clock, channel = start(configured_harness, MONDAY_8AM)
    insights_seed.seed(sqlite_url)
    run_tick(h)
    clock.advance(minutes=59)
    run_tick(h)
    assert digests(h, channel) == []
    clock.advance(minutes=2)
    run_tick(h)
    files = charts_in(h, channel)
    assert len(files) == 3 and all(png_size(f.content)[0] > 0 for f in files)  # type: ignore[attr-defined]
    (post,) = digests(h, channel)
    # 9 March 09:00 to 16 March 09:00: incidents 4, 5, 9 and 10 (3, at midnight on the 9th, is before it).
    assert "*Weekly incident digest: the last 7 days*" in post.text
    assert "4 incidents (1 still open) by severity: sev1 1 · sev2 1 · sev3 1 · sev9 1" in post.text
    payload = post.metadata["event_payload"]
    assert (payload["incidents"], payload["since"], payload["until"]) == (
        4,
        "2026-03-09T09:00:00+00:00",
        "2026-03-16T09:00:00+00:00",
    )
    clock.advance(days=6, hours=23)
    run_tick(h)
    assert len(digests(h, channel)) == 1, "once a week"
    assert len(h.emu.calls_to("files.completeUploadExternal")) == 3


def test_a_restart_after_the_moment_posts_one_late_digest(configured_harness: Callable[..., Harness]) -> None:
    first, _clock, _channel = start(configured_harness, MONDAY_8AM)
    run_tick(first)  # schedules 09:00; then this process stops ticking (it is down)
    later = MONDAY_8AM + timedelta(days=15)  # back on the Tuesday of the week after next
    h, clock, channel = start(configured_harness, later)
    run_tick(h)
    assert len(charts_in(h, channel)) == 3
    (late,) = digests(h, channel)
    assert late.metadata["event_payload"]["until"] == "2026-03-30T09:00:00+00:00", "the latest week, once"
    clock.advance(minutes=5)
    run_tick(h)
    assert len(digests(h, channel)) == 1


def test_no_digest_channel_means_no_digest(configured_harness: Callable[..., Harness]) -> None:
    h, clock, _channel = start(configured_harness, MONDAY_8AM, insights_seed.CONFIG)
    for _ in range(3):
        clock.advance(days=3)
        run_tick(h)
    assert h.emu.calls_to("files.getUploadURLExternal") == []
