"""Postmortems owned, reviewed and current: owner, status, review day, the owner's DMs, and versions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.ops.cli import main
from bot.ops.config import IncidentConfig
from store.erasure import ErasureRepository
from store.retention import RetentionRepository
from tests.postmortem_markdown import split
from tests.scenario.conftest import FakeClock, Harness
from tests.scenario.test_postmortem import cli_export, postmortem_messages, shared_files

OWNER = "incident_postmortem_owner"


@pytest.fixture
def clocked(configured_harness: Callable[..., Harness]) -> tuple[Harness, FakeClock]:
    clock = FakeClock()
    return configured_harness(IncidentConfig(), clock), clock


def tick(h: Harness, clock: FakeClock, **delta: float) -> None:
    clock.advance(**delta)
    h.bot.runtime.tick()
    h.settle()


def owner_posts(h: Harness, room: str) -> list[str]:
    return [m.text for m in h.emu.channels[room].messages if (m.metadata or {}).get("event_type") == OWNER]


def owner_dms(h: Harness, user: str) -> list[str]:
    return [
        str(c.args["text"])
        for c in h.dms_to(user)
        if c.ok and (c.args.get("metadata") or {}).get("event_type") == OWNER
    ]


def resolved_incident(h: Harness) -> str:
    h.command("declare sev2 Checkout is timing out")
    room = str(h.room(1).id)
    h.command("assign commander <@U2|bob>", channel=room)
    h.command("resolve Rolled back", channel=room, user="U2")
    return room


def test_owner_status_and_review_are_recorded_shown_and_in_the_front_matter(
    clocked: tuple[Harness, FakeClock], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    h, _clock = clocked
    room = resolved_incident(h)
    h.command("postmortem owner <@U3|carol>", channel=room)
    h.command("postmortem status in-review", channel=room)
    h.command("postmortem review 2027-01-15", channel=room)
    assert owner_posts(h, room) == [
        ":memo: <@U3> owns the postmortem of *INC-1*. (set by <@U1>)",
        ":memo: The postmortem of *INC-1* is now *in-review*. (set by <@U1>)",
        ":memo: The postmortem review of *INC-1* is on *Fri 2027-01-15*. (set by <@U1>)",
    ]
    assert "the war room shows it" in h.replies()[-1]
    kinds = h.timeline_kinds(1)
    assert {"postmortem_owner", "postmortem_status", "postmortem_review"} <= set(kinds)

    exported = cli_export(monkeypatch, sqlite_url, tmp_path / "INC-1.md", "INC-1").decode()
    front, body = split(exported)
    assert front["postmortem_owner"] == "U3"
    assert front["postmortem_status"] == "in-review"
    assert front["review_date"] == "2027-01-15"
    assert "Postmortem review: 2027-01-15" in body and "Postmortem status: in-review" in body
    # Carol's name is learned by the next upload (people are looked up then); until then her id shows.
    assert "- Postmortem: in-review, owner @U3, review on 2027-01-15\n" in body

    # Saying it again changes nothing and says so; bad input is refused and changes nothing.
    posted = len(owner_posts(h, room))
    h.command("postmortem status in-review", channel=room)
    assert "Nothing changed" in h.replies()[-1]
    for text, said in (
        ("postmortem status finished", "The status is one of draft, in-review, published."),
        ("postmortem review 2001-01-01", "2001-01-01 is already over: give a review day"),
        ("postmortem owner nobody", "Name one person as the owner"),
        ("postmortem deadline friday", "`deadline` is not something a postmortem has."),
    ):
        # Parse errors are the acknowledgement's text; a day already over is found when recording.
        answer = (h.command(text, channel=room).json() or {}).get("text") or h.replies()[-1]
        assert said in answer, answer
    assert len(owner_posts(h, room)) == posted and h.timeline_kinds(1) == kinds
    assert h.incident(1).review_date is not None and h.incident(1).review_date.isoformat() == "2027-01-15"


def test_the_commander_owns_it_hears_when_it_is_ready_and_is_reminded_once(
    clocked: tuple[Harness, FakeClock],
) -> None:
    h, clock = clocked
    room = resolved_incident(h)
    (ready,) = owner_dms(h, "U2")  # the commander at resolve time, and only they
    assert "You own the postmortem of *INC-1*" in ready and "The first draft is ready" in ready
    assert owner_dms(h, "U1") == []

    tick(h, clock, days=4, hours=23)
    assert len(owner_dms(h, "U2")) == 1, "not due yet"
    tick(h, clock, hours=1, minutes=1)
    reminders = owner_dms(h, "U2")[1:]
    assert len(reminders) == 1 and "is still a draft" in reminders[0] and f"<#{room}>" in reminders[0]
    tick(h, clock, days=3)
    assert len(owner_dms(h, "U2")) == 2, "one reminder, however often the tick runs"


def test_a_postmortem_in_review_earns_no_reminder(clocked: tuple[Harness, FakeClock]) -> None:
    h, clock = clocked
    room = resolved_incident(h)
    h.command("postmortem status in-review", channel=room, user="U2")
    tick(h, clock, days=6)
    assert len(owner_dms(h, "U2")) == 1  # the draft-ready DM only
    assert h.incident(1).postmortem_due_at is None


def test_versions_say_what_changed_and_each_one_exports_byte_for_byte(
    clocked: tuple[Harness, FakeClock], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    h, _clock = clocked
    room = resolved_incident(h)
    name = h.emu.channels[room].name
    (v1,) = shared_files(h, room)
    assert v1.filename == f"{name}-postmortem.md"

    h.command("action Alert on DB pool saturation <@U4|dave>", channel=room)
    h.command("action Add a canary stage", channel=room)
    h.command("action done 1", channel=room)
    h.command("note The pool size was set in 2019", channel=room)
    h.command("edit title Checkout timed out", channel=room, user="U2")
    h.command("postmortem", channel=room)
    files = shared_files(h, room)
    assert [f.filename for f in files] == [f"{name}-postmortem.md", f"{name}-postmortem-v2.md"]
    announced = postmortem_messages(h, room)[-1]
    assert "Version 2 of the postmortem draft for *INC-1*" in announced.text
    assert (
        "Changed since version 1: 2 action items added, 1 done; title edited; 1 note added" in announced.text
    )
    assert announced.metadata["event_payload"]["version"] == 2

    # Asked again with nothing new: the same version is shared again, under its own name, and says so.
    h.command("postmortem", channel=room)
    assert shared_files(h, room)[-1].filename == f"{name}-postmortem-v2.md"
    assert "has not changed since version 2" in postmortem_messages(h, room)[-1].text

    h.command("note One more thing", channel=room)  # the current state moves on
    out = tmp_path / "v.md"
    assert cli_export(monkeypatch, sqlite_url, out, "INC-1", "--version", "1") == v1.content
    v2 = files[1]
    assert cli_export(monkeypatch, sqlite_url, out, "INC-1", "--version", "2") == v2.content
    current = cli_export(monkeypatch, sqlite_url, out, "INC-1")
    assert current != v2.content and b"One more thing" in current and b"One more thing" not in v2.content
    assert b"Checkout timed out" in v2.content and b"Checkout timed out" not in v1.content


def test_the_daily_refresh_uploads_only_what_changed_and_stops_once_published(
    clocked: tuple[Harness, FakeClock],
) -> None:
    h, clock = clocked
    room = resolved_incident(h)
    tick(h, clock, days=1, minutes=1)
    assert len(shared_files(h, room)) == 1, "nothing changed: no new version"
    h.command("note Found the ticket", channel=room)
    tick(h, clock, days=1, minutes=1)
    files = shared_files(h, room)
    assert [f.filename.rsplit("-", 1)[-1] for f in files] == ["postmortem.md", "v2.md"]
    assert "1 note added" in postmortem_messages(h, room)[-1].text
    tick(h, clock, hours=1)
    assert len(shared_files(h, room)) == 2, "once a day"

    h.command("postmortem status published", channel=room)
    h.command("note After publishing", channel=room)
    tick(h, clock, days=2)
    assert len(shared_files(h, room)) == 2, "a published postmortem is not refreshed"
    assert h.incident(1).postmortem_refresh_at is None


def test_a_retried_upload_uploads_its_version_once(clocked: tuple[Harness, FakeClock]) -> None:
    h, clock = clocked
    room = resolved_incident(h)
    h.command("note Something new", channel=room)
    # The file lands, the message after it does not: the retry must reuse the file, not number v3.
    h.emu.fail("chat.postMessage", status=503, times=None)
    h.command("postmortem", channel=room)
    h.emu.clear_faults()
    for _ in range(20):
        tick(h, clock, seconds=30)
    names = [f.filename.rsplit("-", 1)[-1] for f in shared_files(h, room)]
    assert names == ["postmortem.md", "v2.md"]
    assert any(not c.ok for c in h.emu.calls_to("chat.postMessage")), "the message did fail at first"
    completed = [c for c in h.emu.calls_to("files.completeUploadExternal") if c.ok]
    assert len(completed) == 2, "v1 at resolve, v2 once: the retry reused the file it found"
    assert "Version 2 of the postmortem draft" in postmortem_messages(h, room)[-1].text


@pytest.mark.parametrize("removal", ["forget-user", "retention"])
def test_a_removal_empties_the_stored_versions_and_export_says_so(
    clocked: tuple[Harness, FakeClock],
    removal: str,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    h, clock = clocked
    resolved_incident(h)
    with h.bot.runtime.uow() as tx:
        if removal == "forget-user":
            assert ErasureRepository(tx.session).forget("U2", clock.now()).postmortem_versions == 1
        else:
            RetentionRepository(tx.session).prune_timeline_text([1], clock.now())
        tx.commit()
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.delenv("INCIDENTBOT_CONFIG", raising=False)
    assert main(["export", "INC-1", "--version", "1"]) == 1
    assert "version 1 is no longer kept: its text was removed" in capsys.readouterr().err
