"""Published postmortems committed to GitHub, over signed HTTP against the Slack and GitHub emulators."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.emulator.github import GitHubEmulator
from bot.ops.config import IncidentConfig
from tests.scenario.conftest import FakeClock, Harness, start_harness
from tests.scenario.test_postmortem import cli_export, shared_files

PUBLISHING = IncidentConfig.model_validate(
    {"publish": {"github": {"repo": "acme/postmortems", "path": "postmortems/{year}/{ref}-{slug}.md"}}}
)
PUBLISHED = "incident_postmortem_published"
FAILED = "incident_job_failed"


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubEmulator]:
    with GitHubEmulator(token="ghp_scenario", repos=("acme/postmortems",)) as gh:
        monkeypatch.setenv("INCIDENTBOT_GITHUB_TOKEN", gh.token)
        monkeypatch.setenv("INCIDENTBOT_GITHUB_URL", gh.url)
        yield gh


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def h(db_url: str, github: GitHubEmulator, clock: FakeClock) -> Iterator[Harness]:
    del github  # its token and URL are in the environment the app reads
    yield from start_harness(db_url, PUBLISHING, clock)


def tick(h: Harness, clock: FakeClock, rounds: int = 3, **delta: float) -> None:
    """Move the clock, then let the tick claim what is owed (an upload, then its publish job)."""
    clock.advance(**delta)
    for _ in range(rounds):
        h.bot.runtime.tick()
        h.settle()


def posts(h: Harness, room: str, event_type: str) -> list[Any]:
    return [m for m in h.emu.channels[room].messages if (m.metadata or {}).get("event_type") == event_type]


def resolved(h: Harness, title: str = "Checkout is timing out") -> str:
    h.command(f"declare sev2 {title}")
    room = str(h.room(1).id)
    h.command("assign commander <@U2|bob>", channel=room)
    h.command("resolve Rolled back", channel=room, user="U2")
    assert h.incident(1).status == "resolved"
    return room


def path_of(h: Harness) -> str:
    year = h.incident(1).declared_at.year
    return f"postmortems/{year}/INC-1-checkout-is-timing-out.md"


def test_published_then_a_new_version_each_committed_with_the_exact_bytes_and_linked(
    h: Harness,
    github: GitHubEmulator,
    clock: FakeClock,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    room = resolved(h)
    tick(h, clock, seconds=1)
    assert github.contents.commits == [], "a draft is not published"
    h.command("postmortem status published", channel=room)
    tick(h, clock, seconds=1)

    [commit] = github.contents.commits
    path = path_of(h)
    assert (commit.repo, commit.branch, commit.path) == ("acme/postmortems", "main", path)
    assert commit.message == "INC-1 postmortem, version 2: Checkout is timing out"
    files = shared_files(h, room)
    assert files[-1].filename.endswith("-postmortem-v2.md"), "the published status is in a fresh version"
    assert commit.content == files[-1].content, "the commit holds exactly the bytes shared in Slack"
    exported = cli_export(monkeypatch, db_url, tmp_path / "INC-1.md", "INC-1")
    assert exported == commit.content, "publishing does not make the draft outdated: export gives the same"
    assert b"postmortem_status: published" in commit.content
    [told] = posts(h, room, PUBLISHED)
    url = f"{github.web_url}/acme/postmortems/blob/main/{path}"
    assert told.text == (
        f":books: Postmortem of *INC-1* (version 2) published to <{url}|acme/postmortems {path}> "
        f"(commit <{github.web_url}/acme/postmortems/commit/{commit.sha}|{commit.sha[:7]}>)."
    )
    assert "postmortem_published" in h.timeline_kinds(1)

    # An action item after publishing: the next /incident postmortem is v3, committed on the same path.
    h.command("action Alert on DB pool saturation", channel=room)
    tick(h, clock, seconds=1)
    h.command("postmortem", channel=room)
    tick(h, clock, seconds=1)
    first, second = github.contents.commits
    assert second.path == path and b"Alert on DB pool saturation" in second.content
    assert second.content == shared_files(h, room)[-1].content
    put = [c for c in github.calls if c.method == "PUT"][-1]
    assert put.body["sha"] == first.blob_sha, "the update names the blob it replaces"
    assert len(posts(h, room, PUBLISHED)) == 2
    # Nothing new: shared again, no third commit, no third post.
    h.command("postmortem", channel=room)
    tick(h, clock, seconds=1)
    assert len(github.contents.commits) == 2 and len(posts(h, room, PUBLISHED)) == 2
    # The daily refresh stays stopped while published.
    tick(h, clock, days=2)
    assert len(github.contents.commits) == 2


def test_5xx_then_success_and_a_429_retry_after_make_one_commit(
    h: Harness, github: GitHubEmulator, clock: FakeClock
) -> None:
    room = resolved(h)
    github.fail(502, times=2)
    h.command("postmortem status published", channel=room)
    tick(h, clock, seconds=1)
    assert github.contents.commits == [] and posts(h, room, PUBLISHED) == []
    tick(h, clock, seconds=5)  # the second attempt meets the second 502
    assert github.contents.commits == []
    github.fail(429, headers={"Retry-After": "120"})
    tick(h, clock, seconds=5)  # the third meets the 429
    calls = len(github.calls)
    tick(h, clock, seconds=60)
    assert len(github.calls) == calls, "no call before the 120 seconds GitHub asked for"
    assert github.contents.commits == [], "GitHub said 120 seconds"
    tick(h, clock, seconds=61)
    assert len(github.contents.commits) == 1 and len(posts(h, room, PUBLISHED)) == 1
    assert posts(h, room, FAILED) == []


def test_a_commit_whose_answer_was_lost_is_adopted_not_repeated(
    h: Harness, github: GitHubEmulator, clock: FakeClock
) -> None:
    room = resolved(h)
    # The PUT is carried out, then the process never hears back (as if killed before recording it).
    github.fail(502, after=True, method="PUT")
    h.command("postmortem status published", channel=room)
    tick(h, clock, seconds=1)
    assert len(github.contents.commits) == 1 and posts(h, room, PUBLISHED) == []
    tick(h, clock, seconds=5)
    assert len(github.contents.commits) == 1, "the retry found its bytes there and adopted the commit"
    [told] = posts(h, room, PUBLISHED)
    assert github.contents.commits[0].sha[:7] in told.text


def test_a_refused_token_tells_the_room_and_keeps_the_draft(
    h: Harness, github: GitHubEmulator, clock: FakeClock
) -> None:
    room = resolved(h)
    github.read_only = True
    h.command("postmortem status published", channel=room)
    tick(h, clock, seconds=1)
    assert github.contents.commits == [] and posts(h, room, PUBLISHED) == []
    [told] = posts(h, room, FAILED)
    assert told.text == (
        ":warning: I could not publish the postmortem for INC-1: GitHub refused access (403): "
        "the token needs Contents read and write on the repository."
    )
    assert shared_files(h, room)[-1].filename.endswith("-postmortem-v2.md"), "the draft is still shared"
    assert h.incident(1).postmortem_status == "published"
