"""The [retention] section: defaults, "forever", durations, and errors that name the key."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path

import pytest

from bot.ops.config import ConfigError, IncidentConfig, effective_config_text, load_config

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "incidentbot.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "incidentbot.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_keep_timeline_text_for_ever_and_finished_jobs_thirty_days() -> None:
    retention = IncidentConfig().retention
    assert retention.timeline_text is None
    assert retention.finished_jobs == timedelta(days=30)


def test_durations_and_forever_are_read(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, '[retention]\ntimeline_text = "90d"\nfinished_jobs = "forever"\n'))
    assert cfg.retention.timeline_text == timedelta(days=90)
    assert cfg.retention.finished_jobs is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("timeline_text = 90", "retention.timeline_text"),
        ('timeline_text = "ninety days"', "is not a duration"),
        ('finished_jobs = "0s"', "must be positive"),
        ('finished_jobs = "-1d"', "must be positive"),
        ('finshed_jobs = "1d"', "did you mean 'finished_jobs'"),
    ],
)
def test_bad_values_name_the_key_and_the_problem(tmp_path: Path, line: str, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, f"[retention]\n{line}\n"))
    assert expected in str(err.value) and "retention" in str(err.value)


def test_effective_config_prints_retention_as_it_was_written(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, '[retention]\ntimeline_text = "1d12h"\n'))
    printed = tomllib.loads(effective_config_text(cfg))["retention"]
    assert printed == {"timeline_text": "1d12h", "finished_jobs": "30d"}
    assert load_config(write(tmp_path, effective_config_text(cfg))).retention == cfg.retention


def test_example_file_documents_the_defaults() -> None:
    assert load_config(EXAMPLE).retention == IncidentConfig().retention
    assert "[retention]" in EXAMPLE.read_text(encoding="utf-8")
