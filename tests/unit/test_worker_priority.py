"""`incidentbot work` yields the CPU to acknowledgements on a shared host, and never refuses to run for it."""

from __future__ import annotations

import logging

import pytest

from bot.ops import worker


def test_the_worker_lowers_its_priority_by_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    monkeypatch.setattr(worker.os, "nice", lambda n: seen.append(n) or n)
    worker._yield_cpu_to_acks(10)
    worker._yield_cpu_to_acks(0)
    assert seen == [10], "0 leaves the priority alone"


def test_a_refused_priority_change_is_logged_and_the_worker_runs_on(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(_n: int) -> int:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(worker.os, "nice", refuse)
    with caplog.at_level(logging.WARNING, logger="bot.ops.worker"):
        worker._yield_cpu_to_acks(5)
    assert "could not lower the worker's CPU priority: Operation not permitted" in caplog.text
