"""`incidentbot report`: the hand-checked incidents as JSON, Markdown, CSV and a PNG; bad input exits 2."""

from __future__ import annotations

import csv
import io
import json
import struct
from pathlib import Path

import pytest

from bot.ops.cli import main
from bot.ops.migrate import upgrade
from tests.insights_seed import seed

CONFIG_TOML = """
[severities.sev1]
update_every = "15m"
acknowledge_within = "10m"
resolve_within = "2h"

[severities.sev2]
update_every = "30m"
resolve_within = "1d"

[severities.sev3]
update_every = "1h"
resolve_within = "1d"
"""
PERIOD = ["--since", "2026-03-02", "--until", "2026-03-16"]


@pytest.fixture
def seeded(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The seed's incidents in a migrated SQLite file, and the CLI pointed at it and at the seed's targets."""
    upgrade(sqlite_url)
    seed(sqlite_url)
    config = tmp_path / "incidentbot.toml"
    config.write_text(CONFIG_TOML)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("INCIDENTBOT_CONFIG", str(config))
    return sqlite_url


@pytest.mark.usefixtures("seeded")
def test_json_has_every_figure_of_the_period(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    assert main(["report", *PERIOD, "--format", "json", "-o", str(out)]) == 0
    got = json.loads(out.read_text())
    assert got["period"] == {
        "since": "2026-03-02T00:00:00Z",
        "until": "2026-03-16T00:00:00Z",
        "timezone": "UTC",
    }
    assert (got["incidents"], got["still_open"], got["drills"], got["duplicates"]) == (6, 1, 1, 1)
    assert got["by_service"] == {"(none)": 3, "api": 2, "db": 2}
    assert got["time_to_resolve_s"] == {"count": 5, "p50": 7200, "p90": 90000, "mean": 22440.0}
    assert got["time_to_acknowledge_s"]["p50"] == 120
    # The real clock is long past 16 March: incident 4 (sev2, open) has missed its day by now.
    assert got["within_target"] == {"acknowledge_within": 0.5, "mitigate_within": None, "resolve_within": 0.5}
    assert got["within_target_counts"]["resolve_within"] == {"met": 3, "eligible": 6}
    assert (got["escalation_rate"], got["reopen_rate"]) == (0.1667, 0.1667)
    assert (got["update_adherence"], got["updates_on_time"], got["updates_due"]) == (0.5, 4, 8)
    assert got["action_items"] == {"open": 3, "done": 1, "overdue": 2}
    assert [w["week_start"] for w in got["weekly"]] == ["2026-03-02", "2026-03-09"]
    assert got["weekly"][1]["by_severity"] == {"sev2": 2, "sev3": 1, "sev9": 1}
    assert (out.stat().st_mode & 0o777) == 0o600, "reports are readable by their owner alone"


@pytest.mark.usefixtures("seeded")
def test_markdown_to_stdout_reads_as_a_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", *PERIOD]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# Incident report: 2026-03-02 00:00 to 2026-03-16 00:00 (UTC)\n")
    assert "- Incidents: **6** (1 still open); left out: 1 drill(s), 1 duplicate(s)" in text
    assert "| resolve | 5 | 2h 0m | 1d 1h | 6h 14m |" in text
    assert "| Acknowledged within target | 50% (1 of 2) |" in text
    assert "| 2026-03-09 | 4 | sev2 2, sev3 1, sev9 1 | 2h 0m | 50% (2 of 4) |" in text


@pytest.mark.usefixtures("seeded")
def test_csv_is_the_weekly_rows(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", *PERIOD, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["week_start"], r["incidents"], r["severity_sev1"], r["severity_sev9"]) for r in rows] == [
        ("2026-03-02", "2", "2", "0"),
        ("2026-03-09", "4", "0", "1"),
    ]
    assert (rows[0]["time_to_resolve_p50_s"], rows[0]["within_target_rate"]) == ("3600", "0.5")


@pytest.mark.usefixtures("seeded")
def test_png_is_the_three_charts_in_one_image(tmp_path: Path) -> None:
    out = tmp_path / "report.png"
    assert main(["report", *PERIOD, "--format", "png", "-o", str(out)]) == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (900, 1080)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--since", "yesterday"], "is neither a span back from --until"),
        (["--until", "16/03/2026"], "is not a date"),
        (["--format", "pdf"], "invalid choice: 'pdf'"),
        (["--format", "png"], "--format png needs -o FILE"),
        (["--since", "2026-03-16", "--until", "2026-03-02"], "the period is empty"),
    ],
)
@pytest.mark.usefixtures("seeded")
def test_bad_arguments_exit_2_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", *argv]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_an_unmigrated_database_is_a_sentence_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.delenv("INCIDENTBOT_CONFIG", raising=False)
    assert main(["report"]) == 2
    err = capsys.readouterr().err
    assert "has no incidentbot tables yet: run `incidentbot db upgrade` first" in err
    assert "Traceback" not in err


def test_a_database_behind_this_version_says_so(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    upgrade(sqlite_url, "0007")
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.delenv("INCIDENTBOT_CONFIG", raising=False)
    assert main(["report"]) == 2
    assert "the database is at revision 0007" in capsys.readouterr().err
