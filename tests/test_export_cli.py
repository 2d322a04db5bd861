"""`incidentbot export`: the markdown draft or a JSON record of one incident, or of many into a directory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.ops.cli import main
from bot.ops.config import IncidentConfig
from bot.ops.migrate import upgrade
from commands.action import add_action_item
from commands.parsing import AddActionItem, Declare
from commands.records import Publication
from store.db import make_engine, make_session_factory
from store.uow import SqlUnitOfWorkFactory
from tests.declare_one import declare_incident


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def database(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[SqlUnitOfWorkFactory]:
    """Two incidents, declared a week apart (the second with an action item), and the CLI pointed at them."""
    upgrade(sqlite_url)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.delenv("INCIDENTBOT_CONFIG", raising=False)
    engine = make_engine(sqlite_url)
    uow = SqlUnitOfWorkFactory(make_session_factory(engine))
    for number, when in (
        (1, datetime(2026, 1, 1, 12, tzinfo=UTC)),
        (2, datetime(2026, 1, 8, 12, tzinfo=UTC)),
    ):
        declare_incident(
            Declare(title=f"Incident {number}", severity="sev2"),
            user_id="U1",
            channel_id=None,
            uow=uow,
            clock=Clock(when),
            settings=IncidentConfig(),
            lease=timedelta(seconds=30),
        )
    with uow() as tx:
        incident = tx.incidents.get(2)
        assert incident is not None
        incident.channel_id, incident.channel_name = "C2", "inc-2-incident-2"
        tx.commit()
    add_action_item(
        AddActionItem(text="Add a canary", owner="U4"),
        user_id="U2",
        channel_id="C2",
        uow=uow,
        clock=Clock(datetime(2026, 1, 8, 13, tzinfo=UTC)),
        settings=IncidentConfig(),
    )
    try:
        yield uow
    finally:
        engine.dispose()


@pytest.mark.usefixtures("database")
def test_markdown_to_stdout_and_to_a_file_are_the_same_bytes(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    assert main(["export", "INC-2"]) == 0
    printed = capsysbinary.readouterr().out
    assert main(["export", "inc-2", "-o", str(tmp_path / "draft.md")]) == 0
    assert (tmp_path / "draft.md").read_bytes() == printed
    text = printed.decode()
    assert text.startswith("---\nid: INC-2\ntitle: Incident 2\n")
    assert "# INC-2: Incident 2" in text and "- Add a canary · owner @U4" in text


@pytest.mark.usefixtures("database")
def test_json_record_with_utc_timestamps(tmp_path: Path) -> None:
    out = tmp_path / "inc-2.json"
    assert main(["export", "INC-2", "--format", "json", "-o", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["id"] == "INC-2" and record["declared_at"] == "2026-01-08T12:00:00Z"
    assert record["status"] == "investigating" and record["resolved_at"] is None
    assert record["action_items"] == [
        {
            "id": 1,
            "text": "Add a canary",
            "owner": "U4",
            "created_by": "U2",
            "created_at": "2026-01-08T13:00:00Z",
            "due_at": None,
            "priority": None,
            "type": None,
            "status": "open",
            "done_at": None,
            "done_by": None,
        }
    ]
    assert [e["kind"] for e in record["timeline"]] == ["declared", "action_item"]
    assert record["timeline"][1]["data"] == {
        "owner": "U4",
        "item": "Add a canary",
        "item_id": 1,
        "number": 1,
        "due": None,
        "priority": None,
    }


@pytest.mark.usefixtures("database")
def test_unknown_incident_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", "INC-99"]) == 1
    assert "INC-99 does not exist" in capsys.readouterr().err


@pytest.mark.usefixtures("database")
def test_export_all_writes_one_file_per_incident_since_a_date(tmp_path: Path) -> None:
    assert main(["export", "--all", "-o", str(tmp_path / "md")]) == 0
    assert sorted(p.name for p in (tmp_path / "md").iterdir()) == ["INC-1.md", "INC-2.md"]
    assert main(["export", "INC-1", "-o", str(tmp_path / "one.md")]) == 0
    assert (tmp_path / "md" / "INC-1.md").read_bytes() == (tmp_path / "one.md").read_bytes()

    assert (
        main(["export", "--all", "--since", "2026-01-05", "--format", "json", "-o", str(tmp_path / "js")])
        == 0
    )
    (only,) = (tmp_path / "js").iterdir()
    assert only.name == "INC-2.json" and json.loads(only.read_text())["id"] == "INC-2"


@pytest.mark.usefixtures("database")
def test_unwritable_output_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("x")
    assert main(["export", "--all", "-o", str(tmp_path / "file")]) == 1
    assert "cannot write the export" in capsys.readouterr().err


@pytest.mark.parametrize("url", ["sqlite:///{tmp}/empty.db", "postgresql://nobody:secret@127.0.0.1:1/none"])
def test_a_database_it_cannot_read_is_a_sentence_not_a_traceback(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", url.format(tmp=tmp_path))
    assert main(["export", "INC-1"]) == 1
    captured = capsys.readouterr()
    expected = "has no incidentbot tables yet" if url.startswith("sqlite") else "cannot use the database"
    assert expected in captured.err and captured.out == ""
    assert "Traceback" not in captured.err and "secret" not in captured.err


def test_export_all_mirrors_the_repository_when_publishing_is_configured(
    database: SqlUnitOfWorkFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same files as publishing: the template's path, or the path a published incident already has."""
    config = tmp_path / "incidentbot.toml"
    config.write_text(
        '[publish.github]\nrepo = "acme/postmortems"\npath = "pm/{year}/{month}/{ref}-{slug}.md"\n'
    )
    monkeypatch.setenv("INCIDENTBOT_CONFIG", str(config))
    with database() as tx:  # INC-2 was published under its first title: later versions keep that file
        tx.publications.add(
            Publication(
                incident_id=2,
                version=1,
                path="pm/2026/01/INC-2-first-title.md",
                commit_sha="a" * 40,
                commit_url="https://github.example/c",
                html_url="https://github.example/h",
                published_at=datetime(2026, 1, 9, tzinfo=UTC),
                job_id=99,
            )
        )
        tx.commit()
    assert main(["export", "--all", "-o", str(tmp_path / "repo")]) == 0
    written = sorted(str(p.relative_to(tmp_path / "repo")) for p in (tmp_path / "repo").rglob("*.md"))
    assert written == ["pm/2026/01/INC-1-incident-1.md", "pm/2026/01/INC-2-first-title.md"]
    assert main(["export", "INC-1", "-o", str(tmp_path / "one.md")]) == 0
    assert (tmp_path / "repo/pm/2026/01/INC-1-incident-1.md").read_bytes() == (
        tmp_path / "one.md"
    ).read_bytes()
    assert (tmp_path / "repo/pm/2026").stat().st_mode & 0o777 == 0o700

    assert main(["export", "--all", "--format", "json", "-o", str(tmp_path / "js")]) == 0
    assert sorted(p.name for p in (tmp_path / "js").iterdir()) == ["INC-1.json", "INC-2.json"]
