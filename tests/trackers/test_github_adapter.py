"""The GitHub adapter against the strict GitHub emulator: each call, and each class of failure."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.emulator.github import GitHubEmulator
from bot.trackers.github import GitHubTracker
from commands.tracker import CLOSED, OPEN, Issue, TrackerError, TrackerRefused

TOKEN = "ghp_secret_never_logged"


@pytest.fixture
def gh() -> Iterator[GitHubEmulator]:
    with GitHubEmulator(token=TOKEN, repos=("acme/ops",)) as emu:
        yield emu


def tracker(
    gh: GitHubEmulator, *, token: str = TOKEN, repo: str = "acme/ops", timeout: float = 5.0
) -> GitHubTracker:
    return GitHubTracker(repo, token, base_url=gh.url, timeout=timeout)


def test_creates_an_issue_with_the_marker_and_reads_its_state(gh: GitHubEmulator) -> None:
    issue = tracker(gh).create_issue("[INC-1] Add a retry", "Body", ["incident"], marker="m-1")
    assert issue == Issue("#1", f"{gh.url}/web/acme/ops/issues/1")
    [created] = gh.issues["acme/ops"]
    assert created.title == "[INC-1] Add a retry" and created.labels == ["incident"]
    assert created.body is not None and created.body.endswith("<!-- m-1 -->")
    assert tracker(gh).issue_state("#1") == OPEN
    gh.close("acme/ops", 1)
    assert tracker(gh).issue_state("#1") == CLOSED
    gh.reopen("acme/ops", 1)
    assert tracker(gh).issue_state("#1") == OPEN


def test_sends_the_headers_github_asks_for(gh: GitHubEmulator) -> None:
    tracker(gh).create_issue("t", "b", [], marker="m")
    [call] = gh.calls
    assert call.method == "POST" and call.path == "/repos/acme/ops/issues"
    assert "labels" not in call.body  # none configured: none sent


def test_finds_an_issue_an_unrecorded_attempt_created_by_its_marker(gh: GitHubEmulator) -> None:
    t = tracker(gh)
    t.create_issue("other", "b", [], marker="m-1")
    made = t.create_issue("mine", "b", [], marker="m-2")
    assert t.find_issue("m-2") == made
    assert t.find_issue("m-3") is None


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ("bad token", "refused the token (401)"),
        ("unknown repo", "cannot find the repository or issue (404)"),
        ("read only", "refused access (403)"),
    ],
)
def test_refusals_say_why_and_are_not_retried(gh: GitHubEmulator, setup: str, words: str) -> None:
    if setup == "read only":
        gh.read_only = True
    t = tracker(
        gh,
        token="wrong" if setup == "bad token" else TOKEN,
        repo="acme/nope" if setup == "unknown repo" else "acme/ops",
    )
    with pytest.raises(TrackerRefused) as refused:
        t.create_issue("t", "b", [], marker="m")
    assert words in refused.value.reason
    assert gh.issues["acme/ops"] == []


def test_an_invalid_issue_is_refused(gh: GitHubEmulator) -> None:
    with pytest.raises(TrackerRefused, match="422"):
        tracker(gh).create_issue("", "b", [], marker="m")


def test_an_unknown_issue_is_refused(gh: GitHubEmulator) -> None:
    with pytest.raises(TrackerRefused, match="404"):
        tracker(gh).issue_state("#41")


@pytest.mark.parametrize(
    ("status", "headers", "wait"),
    [
        (503, {}, None),
        (429, {"Retry-After": "30"}, 30.0),
        (403, {"Retry-After": "7"}, 7.0),  # a secondary rate limit comes as a 403 with Retry-After
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "9999999999"}, None),
    ],
)
def test_outages_and_rate_limits_are_retried_after_what_github_asked(
    gh: GitHubEmulator, status: int, headers: dict[str, str], wait: float | None
) -> None:
    gh.fail(status, headers=headers)
    with pytest.raises(TrackerError) as failed:
        tracker(gh).create_issue("t", "b", [], marker="m")
    if "x-ratelimit-reset" in headers:
        assert failed.value.retry_after is not None and failed.value.retry_after > 60
    else:
        assert failed.value.retry_after == wait
    assert gh.issues["acme/ops"] == []
    assert tracker(gh).create_issue("t", "b", [], marker="m").key == "#1"  # and works once it is back


def test_a_slow_github_is_a_timeout_to_retry(gh: GitHubEmulator) -> None:
    gh.latency = 1.0
    with pytest.raises(TrackerError, match="timed out"):
        tracker(gh, timeout=0.2).issue_state("#1")


def test_a_github_that_is_not_there_is_retried() -> None:
    with GitHubEmulator() as gone:
        url = gone.url
    with pytest.raises(TrackerError, match="could not connect"):
        GitHubTracker("acme/ops", TOKEN, base_url=url, timeout=1.0).issue_state("#1")


def test_the_token_never_reaches_the_log(gh: GitHubEmulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    gh.fail(401)
    with pytest.raises(TrackerRefused):
        tracker(gh).create_issue("secret title", "b", [], marker="m")
    gh.fail(503)
    with pytest.raises(TrackerError):
        tracker(gh).issue_state("#1")
    assert caplog.records
    assert TOKEN not in caplog.text and "secret title" not in caplog.text
    assert TOKEN not in repr(tracker(gh).__dict__)
