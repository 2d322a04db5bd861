"""Run every measurement and write docs/performance.md: `python -m benchmarks [--quick]`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks import (
    ack_cpu,
    ack_latency,
    api_calls,
    client_overhead,
    db_work,
    end_to_end,
    insights_report,
    memory,
    postmortem_render,
    rate_limited,
    scheduler_tick,
    worker_scaling,
)
from benchmarks.actions import ACTIONS, record_action
from benchmarks.harness import bench_config, database, in_process_app, start_emulator, workdir
from benchmarks.report import PENDING, Finding, Section, render, write
from benchmarks.served import served_app

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ENV = "INCIDENTBOT_BENCH_DATABASE_URL"


@dataclass(frozen=True)
class Sizes:
    """How much each measurement does; --quick and the smoke test shrink it."""

    action_repeats: int
    e2e_runs: int
    ack_samples: int
    client_rounds: int
    client_block: int
    memory_total: int
    memory_rounds: int
    ack_concurrency: tuple[int, ...] = ack_latency.CONCURRENCY
    ack_latencies: tuple[float, ...] = ack_latency.LATENCIES
    ack_rounds: int = ack_latency.ROUNDS
    ack_cpu_bursts: int = ack_cpu.BURSTS
    ack_cpu_size: int = ack_cpu.SIZE
    tick_open: tuple[int, ...] = scheduler_tick.OPEN_SIZES
    tick_rounds: int = 5
    postmortem_events: tuple[int, ...] = postmortem_render.DEFAULT_SIZES
    postmortem_repeats: int = 7
    rate_limited_declares: int = rate_limited.DECLARES
    scaling_declares: int = worker_scaling.DECLARES
    scaling_workers: tuple[int, ...] = worker_scaling.WORKERS
    report_incidents: int = insights_report.INCIDENTS
    report_events: int = insights_report.EVENTS
    report_rounds: int = insights_report.ROUNDS


FULL = Sizes(
    action_repeats=2,
    e2e_runs=7,
    ack_samples=100,
    client_rounds=20,
    client_block=25,
    memory_total=10_000,
    memory_rounds=5,
)
QUICK = Sizes(
    action_repeats=2,
    e2e_runs=3,
    ack_samples=30,
    client_rounds=8,
    client_block=10,
    memory_total=1_000,
    memory_rounds=4,
    tick_rounds=2,
    postmortem_repeats=2,
    rate_limited_declares=25,
    scaling_declares=20,
    scaling_workers=(1, 2),
    report_incidents=2_000,
    report_events=200_000,
    report_rounds=3,
    ack_cpu_bursts=2,
)


# What the issue asks for but the product cannot do yet, as (what, target, why): empty once all is built.
PENDING_ROWS: list[tuple[str, str, str]] = []


def pending_section() -> Section | None:
    """Rows for what cannot be measured yet, so the gap stays visible; None when everything is measured."""
    if not PENDING_ROWS:
        return None
    return Section(
        "Not yet measurable",
        "Each becomes one function: an action in `benchmarks/actions.py::ACTIONS` (its budgets in "
        "`api_calls.BUDGETS` / `db_work.STATEMENT_BUDGETS`), or one measurement module called from "
        "`benchmarks/run.py::MEASUREMENTS`.",
        findings=[Finding(what, target, "-", PENDING, why) for what, target, why in PENDING_ROWS],
    )


def per_action(db_url: str, sizes: Sizes, backend: str) -> list[Section]:
    """Web API calls and database work per action, then declare end to end, on one in-process app."""
    with in_process_app(db_url) as app:
        records = {name: record_action(app, name, sizes.action_repeats) for name in ACTIONS}
        sections = [api_calls.section(records), db_work.section(records, backend)]
        sections.append(end_to_end.measure(app, sizes.e2e_runs))
    return sections


def acks(db_url: str, sizes: Sizes, backend: str) -> list[Section]:
    """Declare acks against the floor: web process beside a worker (PostgreSQL runs) and SQLite alone."""
    emu, _general, announce = start_emulator(bench_config())
    try:
        with workdir() as wd, database(None, wd) as sqlite_url:
            postgres_url = db_url if backend == "PostgreSQL" else None
            return [
                ack_latency.measure(
                    emu,
                    announce,
                    sqlite_url,
                    postgres_url,
                    sizes.ack_samples,
                    sizes.ack_concurrency,
                    sizes.ack_latencies,
                    sizes.ack_rounds,
                )
            ]
    finally:
        emu.stop()


def ack_cpu_time(db_url: str, sizes: Sizes, backend: str) -> list[Section]:
    """CPU per declare ack of the web process (PostgreSQL runs; else serve alone) and of the floor."""
    emu, _general, announce = start_emulator(bench_config())
    try:
        with workdir() as wd, database(None, wd) as sqlite_url:
            postgres_url = db_url if backend == "PostgreSQL" else None
            return [
                ack_cpu.measure(
                    emu, announce, sqlite_url, postgres_url, sizes.ack_cpu_bursts, sizes.ack_cpu_size
                )
            ]
    finally:
        emu.stop()


def served_memory(db_url: str, sizes: Sizes, backend: str) -> list[Section]:
    """Memory of the app alone in a child process."""
    emu, _general, announce = start_emulator(bench_config())
    try:
        with served_app(emu, db_url) as app:
            return [memory.measure(emu, app, announce, sizes.memory_total, sizes.memory_rounds, backend)]
    finally:
        emu.stop()


def overhead(sizes: Sizes) -> list[Section]:
    """Client overhead needs only the emulator."""
    emu, _, _ = start_emulator(bench_config())
    try:
        return [client_overhead.measure(emu, sizes.client_rounds, sizes.client_block)]
    finally:
        emu.stop()


def scheduler(db_url: str, sizes: Sizes, backend: str) -> list[Section]:
    """The reminder tick on SQLite always, and also on PostgreSQL when the run has a server."""
    if backend == "SQLite":
        return [scheduler_tick.measure([(backend, db_url)], sizes.tick_open, sizes.tick_rounds)]
    with workdir() as wd, database(None, wd) as sqlite_url:
        targets = [("SQLite", sqlite_url), (backend, db_url)]
        return [scheduler_tick.measure(targets, sizes.tick_open, sizes.tick_rounds)]


def postmortem(sizes: Sizes) -> list[Section]:
    """Rendering needs no database or Slack: the timeline is built in memory."""
    return [postmortem_render.section(sizes.postmortem_events, sizes.postmortem_repeats)]


def rate_limits(db_url: str, sizes: Sizes, _backend: str) -> list[Section]:
    """A burst of declares under Slack's real per-tier limits, followed until every room is finished."""
    return [rate_limited.measure(db_url, sizes.rate_limited_declares)]


def scaling(db_url: str, sizes: Sizes, _backend: str) -> list[Section]:
    """A declare burst finished by 1, 2 and 4 worker processes (PostgreSQL; skipped on SQLite)."""
    return [worker_scaling.measure(db_url, sizes.scaling_declares, sizes.scaling_workers)]


def insights(db_url: str, sizes: Sizes, backend: str) -> list[Section]:
    """The insights report on SQLite always, and also on PostgreSQL when the run has a server."""
    size = (sizes.report_incidents, sizes.report_events, sizes.report_rounds)
    if backend == "SQLite":
        return [insights_report.measure([(backend, db_url)], *size)]
    with workdir() as wd, database(None, wd) as sqlite_url:
        return [insights_report.measure([("SQLite", sqlite_url), (backend, db_url)], *size)]


Measurement = Callable[[str, Sizes, str], list[Section]]
MEASUREMENTS: dict[str, Measurement] = {
    "per action": per_action,
    "client overhead": lambda _url, sizes, _backend: overhead(sizes),
    "ack latency": acks,
    "ack cpu": ack_cpu_time,
    "memory": served_memory,
    "scheduler tick": scheduler,
    "postmortem render": lambda _url, sizes, _backend: postmortem(sizes),
    "rate_limited": rate_limits,
    "worker_scaling": scaling,
    "insights report": insights,
}


def run(sizes: Sizes, postgres: str | None, mode: str, only: list[str] | None = None) -> str:
    """Run the chosen measurements on a throwaway database and return the report text."""
    started = time.perf_counter()
    backend = "PostgreSQL" if postgres else "SQLite"
    sections: list[Section] = []
    with workdir() as wd:
        for name, fn in MEASUREMENTS.items():
            if only and name not in only:
                continue
            t0 = time.perf_counter()
            with database(postgres, wd) as url:
                sections += fn(url, sizes, backend)
            print(f"{name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    pending = pending_section()
    if pending is not None:
        sections.append(pending)
    return render(sections, mode=mode, database=backend, elapsed=time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    """Command line: run, print where the report went, and exit 0 (unmet targets are findings, not errors)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller counts (about a minute)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(POSTGRES_ENV),
        help=f"PostgreSQL server URL to create a throwaway database on (default ${POSTGRES_ENV}; "
        "without it SQLite)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="where to write the report (default docs/performance.md; with --only, standard output)",
    )
    parser.add_argument("--only", action="append", choices=list(MEASUREMENTS), help="run only these")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    sizes = QUICK if args.quick else FULL
    text = run(sizes, args.postgres, "quick" if args.quick else "full", args.only)
    output: Path | None = args.output or (None if args.only else ROOT / "docs" / "performance.md")
    if output is None:
        # A partial run must not replace the whole report's other sections with nothing.
        sys.stdout.write(text)
        return 0
    write(output, text)
    print(f"wrote {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
