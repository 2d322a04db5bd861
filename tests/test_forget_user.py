"""`incidentbot forget-user` on SQLite and PostgreSQL: a person's name and words go; ids and shape stay."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import make_url, select

from bot.ops.cli import main
from bot.ops.config import IncidentConfig
from bot.render.postmortem import PostmortemDrafts
from store.erasure import FORGOTTEN_TEXT
from store.models import ActionItem, Incident, Person, SlackJob
from store.uow import SqlUnitOfWorkFactory
from tests.lifecycle_seed import NOW, SECRET, seed_incident, timeline_texts


@pytest.fixture
def seeded(uow_factory: SqlUnitOfWorkFactory, db_url: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("DATABASE_URL", db_url)
    return seed_incident(uow_factory, declared_at=NOW - timedelta(days=3))


def forget(member: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["forget-user", member])
    return code, capsys.readouterr().out


def test_their_words_and_name_go_while_ids_and_the_timeline_shape_stay(
    seeded: int, uow_factory: SqlUnitOfWorkFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    before = timeline_texts(uow_factory, seeded)
    code, out = forget("U2", capsys)
    assert code == 0
    for line in (
        "name removed: yes",
        "timeline entries replaced: 3",  # their update, action item and resolution
        "action items replaced: 1",
        "resolution summaries replaced: 1",
        "update messages in Slack jobs replaced: 1",
    ):
        assert line in out
    after = timeline_texts(uow_factory, seeded)
    assert after["update_posted"] == after["action_item"] == FORGOTTEN_TEXT
    assert after["resolved"] == f"Resolved: {FORGOTTEN_TEXT}"
    for kind in ("declared", "role_assigned", "pinned", "note"):  # others' words, and the bot's own
        assert after[kind] == before[kind]
    with uow_factory() as tx:
        incident = tx.incidents.get(seeded)
        assert incident is not None
        assert incident.resolved_by == "U2" and incident.resolution_summary == FORGOTTEN_TEXT
        assert [(r.role, r.user_id) for r in incident.roles] == [("commander", "U2")]
        events = tx.timeline.list_for(seeded)
        assert [e.kind for e in events] == list(before)  # same entries, same order
        action = next(e for e in events if e.kind == "action_item")
        assert action.actor == "U2" and action.data == {"owner": "U3", "item": FORGOTTEN_TEXT}
        (item,) = tx.action_items.list_for(seeded)
        assert (item.text, item.owner, item.created_by) == (FORGOTTEN_TEXT, "U3", "U2")
        (job,) = tx.session.scalars(select(SlackJob))
        assert job.payload == {"event_id": 0, "message": FORGOTTEN_TEXT, "by": "U2"}
        assert tx.people.names(["U1", "U2"]) == {"U1": "alice", "U2": "U2"}


def test_a_forgotten_authors_pin_and_name_leave_the_draft_and_never_come_back(
    seeded: int, uow_factory: SqlUnitOfWorkFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    assert forget("U3", capsys)[0] == 0
    with uow_factory() as tx:
        tx.people.remember({"U3": "carol", "U1": "alice2"})  # a later draft's users.info answers
        tx.commit()
    drafts = PostmortemDrafts.for_config(uow_factory, IncidentConfig())
    pm = drafts.data(seeded)
    assert pm is not None
    markdown = drafts.markdown(pm).decode()
    assert "carol" not in markdown and SECRET not in markdown
    assert "@U3" in markdown and "@alice2" in markdown
    with uow_factory() as tx:
        person = tx.session.get_one(Person, "U3")
        assert person.name == "U3" and person.forgotten_at is not None


def _acknowledged_in_pagerduty(uow: SqlUnitOfWorkFactory, incident_id: int, who: str, key: str) -> int:
    """A page the pager reports acknowledged by `who` (a display name), recorded as the webhook does."""
    from commands.paging import acknowledge
    from commands.records import Page

    with uow() as tx:
        page = Page(incident_id=incident_id, dedup_key=key, target="pagerduty:db", paged_at=NOW)
        tx.pages.insert_many([page])
        tx.commit()
        page_id = page.id

    class Clock:
        def now(self) -> datetime:
            return NOW + timedelta(minutes=5)

    acknowledge(page_id, who=who, via="pagerduty", uow=uow, clock=Clock(), lease=timedelta(seconds=30))
    return page_id


def test_a_name_a_pager_reported_for_them_goes_from_the_page_its_entry_and_its_job(
    seeded: int, uow_factory: SqlUnitOfWorkFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pager names who acknowledged by display name, not member id: the request names it."""
    theirs = _acknowledged_in_pagerduty(uow_factory, seeded, "Carol <Jones>", "k1")
    others = _acknowledged_in_pagerduty(uow_factory, seeded, "Dave Smith", "k2")
    code = main(["forget-user", "U3", "--pager-name", "carol <JONES>"])
    out = capsys.readouterr().out
    assert code == 0 and "pages acknowledged in a pager under their name replaced: 1" in out
    with uow_factory() as tx:
        assert tx.pages.get(theirs).acknowledged_by == FORGOTTEN_TEXT  # type: ignore[union-attr]
        assert tx.pages.get(others).acknowledged_by == "Dave Smith"  # type: ignore[union-attr]
        entries = [e for e in tx.timeline.list_for(seeded) if e.kind == "page_acknowledged"]
        assert [e.data["by"] for e in entries] == [FORGOTTEN_TEXT, "Dave Smith"]  # type: ignore[index]
        assert entries[0].text.startswith(f"{FORGOTTEN_TEXT} (in PagerDuty) acknowledged")
        assert "Carol" not in entries[0].text and "Dave Smith" in entries[1].text
        ordered = select(SlackJob).order_by(SlackJob.id)  # type: ignore[arg-type]
        jobs = [j.payload for j in tx.session.scalars(ordered) if j.kind == "page_ack"]
        assert [j["by"] for j in jobs] == [FORGOTTEN_TEXT, "Dave Smith"]
        assert "Carol" not in jobs[0]["notice"] and FORGOTTEN_TEXT in jobs[0]["notice"]


def test_a_second_run_changes_nothing_more(
    seeded: int, uow_factory: SqlUnitOfWorkFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    forget("U2", capsys)
    before = timeline_texts(uow_factory, seeded)
    code, out = forget("U2", capsys)
    assert code == 0 and "already forgotten on" in out
    assert "name removed: no (already gone)" in out and "timeline entries replaced: 0" in out
    assert "update messages in Slack jobs replaced: 0" in out
    assert timeline_texts(uow_factory, seeded) == before


@pytest.mark.usefixtures("seeded")
def test_an_unknown_member_is_reported_and_nothing_changes(
    uow_factory: SqlUnitOfWorkFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = forget("U0NOBODY", capsys)
    assert code == 0 and out.startswith("Nothing found for U0NOBODY")
    with uow_factory() as tx:
        assert tx.session.get(Person, "U0NOBODY") is None
        assert tx.session.scalar(select(Incident.resolution_summary)) == "U2 rolled back the deploy"
        assert tx.session.scalar(select(ActionItem.text)) == "Rotate the db password"


@pytest.mark.usefixtures("seeded")
def test_a_member_only_named_by_id_is_found_and_kept_from_name_lookups(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = forget("<@U1|alice>", capsys)  # pasted as a mention
    assert code == 0 and "Forgot U1:" in out and "timeline entries replaced: 1" in out  # their note
    assert "Kept: their member id on 5 record(s)" in out


@pytest.mark.parametrize("member", ["alice", "@alice", "u123", "C0123ABCD", ""])
def test_anything_but_a_member_id_is_a_usage_error(member: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["forget-user", member]) == 2
    assert "is not a Slack member ID" in capsys.readouterr().err


def test_an_unmigrated_database_is_reported_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert main(["forget-user", "U2"]) == 1
    assert "cannot use the database" in capsys.readouterr().err


@pytest.mark.usefixtures("seeded")
def test_the_installed_command_forgets(db_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": db_url}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "forget-user", "U3"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Forgot U3:" in done.stdout and "timeline entries replaced: 1" in done.stdout
    shown = make_url(db_url).render_as_string(hide_password=True)
    assert f"database: {shown}" in done.stderr  # which database was changed, password hidden
