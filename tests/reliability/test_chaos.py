"""A short seeded chaos run: real traffic at two replicas on PostgreSQL through Slack faults and kills."""

from __future__ import annotations

from benchmarks.chaos import run

SECONDS = 30.0  # CI's short seed; `python -m benchmarks.chaos --seconds 600` runs a long one
SEED = 20261130


def test_chaos_run_breaks_no_invariant(postgres_url: str) -> None:
    report = run(postgres_url, seconds=SECONDS, seed=SEED)
    print(report.summary())
    assert report.kills >= 3 and sum(report.faults.values()) >= 20, "the run was not chaotic enough"
    assert sum(report.acknowledged.values()) >= 100 and report.incidents >= 10
    assert report.violations == [], report.summary()
