"""The benchmark suite at toy sizes, so it cannot rot between runs: structure only, never timings."""

from __future__ import annotations

from pathlib import Path

from benchmarks import run
from benchmarks.actions import ACTIONS, PENDING_ACTIONS
from benchmarks.report import MET, NOT_MET, PENDING

TINY = run.Sizes(
    action_repeats=1,
    e2e_runs=1,
    ack_samples=2,
    client_rounds=2,
    client_block=2,
    memory_total=4,
    memory_rounds=2,
    ack_concurrency=(1, 2),
    ack_latencies=(0.0,),
    tick_open=(10, 100),
    tick_rounds=1,
    postmortem_events=(50, 200),
    postmortem_repeats=1,
    rate_limited_declares=3,
    scaling_declares=3,
    scaling_workers=(1,),
    report_incidents=40,
    report_events=2_000,
    report_rounds=1,
    ack_cpu_bursts=1,
    ack_cpu_size=2,
)


def test_suite_runs_at_tiny_sizes_and_writes_every_section(tmp_path: Path) -> None:
    out = tmp_path / "performance.md"
    text = run.run(TINY, None, "smoke")
    out.write_text(text)

    assert text.startswith("# Performance\n")
    for heading in (
        "## Summary",
        "## Web API calls per action",
        "## Database work per action",
        "## Declare end to end",
        "## Web API client overhead",
        "## Acknowledgement latency",
        "## CPU per acknowledgement",
        "## Memory",
        "## Scheduler tick",
        "## Postmortem render",
        "## Declares under Slack's rate limits",
        "## Worker scaling",
        "## Insights report",
    ):
        assert heading in text, heading
    for fact in ("- date: ", "- cores: ", "- memory: ", "- Python: ", "- CPU: "):
        assert fact in text, fact
    summary = text.split("## Summary", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in summary.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert rows, "the summary lists the targets"
    for row in rows:
        assert any(f"**{v}**" in row for v in (MET, NOT_MET, PENDING)), row
    for name in (
        "Web API calls per declare",
        "Web API calls per update",
        "statements per declare",
        "declare end to end",
        "RSS after",
        "scheduler tick, claim pass (SQLite)",
        "scheduler tick flat in the number open (SQLite)",
        "postmortem render",
        "every room provisioned, 3 declares under Slack's rate limits",
        "work done twice, 3 declares under Slack's rate limits",
        "insights report, 40 incidents and 2,000 events (SQLite)",
    ):
        assert name in summary, name
    assert PENDING not in summary and "## Not yet measurable" not in text, "every action is built now"
    for name in (*ACTIONS, *PENDING_ACTIONS):
        assert f"| {name} |" in text, name
    # Every unmet target says why and what would close it.
    if NOT_MET in summary:
        assert "### Gaps and what would close them" in text
        gaps = text.split("### Gaps and what would close them", 1)[1].split("\n## ", 1)[0]
        assert all("Why: " in g and "Fix: " in g for g in gaps.splitlines() if g.startswith("- "))


def test_declare_is_recorded_with_calls_statements_and_transactions(tmp_path: Path) -> None:
    from benchmarks.actions import record_action
    from benchmarks.harness import database, in_process_app

    with database(None, tmp_path) as url, in_process_app(url) as app:
        (record,) = record_action(app, "declare", repeats=1)
    assert record.calls and record.client_calls, "Web API calls seen by the emulator and by the client"
    assert len(record.calls) == len(record.client_calls)
    assert record.statements and record.transactions
    assert sum(t.statements for t in record.transactions) <= len(record.statements)


def test_tick_claims_exactly_the_due_incidents(tmp_path: Path) -> None:
    from benchmarks.harness import database
    from benchmarks.scheduler_tick import _measure_backend, due_count

    with database(None, tmp_path) as url:
        rows = _measure_backend(url, "SQLite", (10, 200), rounds=1)
    assert [(r.open, r.due, r.claimed) for r in rows] == [(10, 1, 1), (200, 2, 2)]
    assert due_count(10_000) == 100
    for row in rows:
        assert row.post_calls == row.due, "one reminder posted per due incident"
        assert row.empty_statements == 2, "an empty tick only reads the two due indexes"


def test_a_burst_under_realistic_rate_limits_is_followed_until_every_room_is_done(tmp_path: Path) -> None:
    from benchmarks.harness import database
    from benchmarks.rate_limited import pace_floor, run_burst, section

    with database(None, tmp_path) as url:
        burst = run_burst(url, 3)  # below every limit: the path, not Slack's pace
    assert burst.limits_on, "the emulator applied Slack's limits"
    assert len(burst.acks) == 3 and burst.ack_failures == 0
    assert burst.provisioned == 3 and burst.all_provisioned is not None
    assert len(burst.per_room) == 3
    assert burst.jobs.total == 3 and burst.jobs.unfinished == 0 and not burst.jobs.gave_up
    assert burst.violations == [], burst.violations
    calls = {c.method: c for c in burst.calls}
    for method in ("conversations.create", "conversations.invite", "conversations.setTopic", "pins.add"):
        assert calls[method].succeeded == 3, method
    assert calls["chat.postMessage"].succeeded == 6, "a summary and an announcement per room"
    assert all(len(burst.steps[step]) == 3 for step in burst.steps), burst.steps
    assert (pace_floor(3), pace_floor(21), pace_floor(30)) == (0.0, 60.0, 69.0)

    report = section(burst)
    text = "\n".join([*report.tables, *(f"{f.what}: {f.status}" for f in report.findings)])
    for column in ("| declares | acks | p50 | p90 | p99 | max | failed |", "| method | Slack's limit |"):
        assert column in text, column
    for figure in ("rooms provisioned | 3 of 3", "work done twice (violations) | 0", "| room created | 3 |"):
        assert figure in text, figure
    assert "work done twice, 3 declares under Slack's rate limits: met" in text


def test_ack_latency_times_the_web_process_beside_a_worker_against_the_floor(
    postgres_url: str, tmp_path: Path
) -> None:
    from benchmarks import ack_latency
    from benchmarks.harness import bench_config, database, start_emulator
    from bot.ops.migrate import upgrade

    upgrade(postgres_url)
    emu, _general, announce = start_emulator(bench_config())
    try:
        with database(None, tmp_path) as sqlite_url:
            report = ack_latency.measure(
                emu,
                announce,
                sqlite_url,
                postgres_url,
                2,
                concurrency_levels=(2,),
                latencies=(0.0,),
                rounds=2,
                held_ms=(30,),
            )
    finally:
        emu.stop()
    text = "\n".join(report.tables)
    # Two rounds pooled per shape; a floor burst before every one of them, pooled across shapes.
    assert "| web + worker, PostgreSQL | 0 s | 2 | 4 |" in text
    assert "| serve alone, SQLite | 0 s | 2 | 4 |" in text
    assert "| floor: a do-nothing app | - | 2 | 8 |" in text
    # The held floor follows every floor burst, and no ack of it comes before its commit has slept.
    (held,) = [row for row in text.splitlines() if "floor holding each burst for a 30 ms commit" in row]
    assert "| - | 2 | 8 |" in held
    p50 = float(held.split("|")[5])
    assert p50 >= 30.0, held
    assert any("30 ms commit" in note and "× the floor" in note for note in report.notes)
    rows = text.splitlines()[2:]
    assert all(row.endswith("| 0 |") for row in rows), "every ack answered 200"
    assert all(float(row.split("|")[-3]) > 0 for row in rows), "each server's CPU per ack was read"
    (target,) = [f for f in report.findings if f.what.startswith("declare ack p99, 2 concurrent, 0 s")]
    assert "× floor" in target.measured and target.target.startswith("≤ 2× floor p99")
    assert "by round" in target.measured and "median" in target.measured


def test_the_ack_target_is_met_only_when_the_median_round_is_within_it_too() -> None:
    from benchmarks.ack_latency import STALLED, WEB, Level, against_floor

    def level(p99_ms: float, rounds: list[float]) -> Level:
        return Level(WEB, 2.0, 100, times=[p99_ms / 1000] * 100, round_ratios=rounds)

    assert against_floor(level(90, [1.6, 1.8, 1.9]), 0.050).status == MET
    # One stall in one floor burst made the pooled floor p99 large: the rounds still show 3x.
    stalled = against_floor(level(200, [2.8, 3.0, 3.1, 4.1, 0.9]), 0.120)
    assert stalled.status == NOT_MET and stalled.why.startswith(STALLED)
    slow = against_floor(level(150, [2.9, 3.0]), 0.050)
    assert slow.status == NOT_MET and not slow.why.startswith(STALLED)
