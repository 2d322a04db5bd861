"""The Jira Cloud adapter against the strict Jira emulator: each call, and each class of failure."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.emulator.jira import DEFAULT_SEARCH_LAG, JiraEmulator
from bot.trackers.jira import SEARCH_SETTLE_SECONDS, JiraTracker, adf
from commands.tracker import CLOSED, OPEN, TrackerError, TrackerRefused

TOKEN = "jira-secret-never-logged"


@pytest.fixture
def jira() -> Iterator[JiraEmulator]:
    with JiraEmulator(email="bot@acme.test", token=TOKEN, projects={"OPS": ("Task",)}) as emu:
        yield emu


def tracker(
    jira: JiraEmulator, *, token: str = TOKEN, project: str = "OPS", kind: str = "Task", timeout: float = 5.0
) -> JiraTracker:
    return JiraTracker(jira.url, project, kind, "bot@acme.test", token, timeout=timeout)


def test_creates_an_issue_with_an_adf_description_and_reads_its_status_category(jira: JiraEmulator) -> None:
    issue = tracker(jira).create_issue(
        "[INC-1] Add a retry", "Line one\nline two\n\nMore", ["incident"], marker="m-1"
    )
    assert issue.key == "OPS-1" and issue.url == f"{jira.url}/browse/OPS-1"
    created = jira.issues["OPS-1"]
    assert created.labels == ["incident", "m-1"] and created.issue_type == "Task"
    assert created.description == adf("Line one\nline two\n\nMore")
    assert created.description is not None and len(created.description["content"]) == 2
    assert tracker(jira).issue_state("OPS-1") == OPEN
    jira.close("OPS-1")
    assert tracker(jira).issue_state("OPS-1") == CLOSED
    jira.reopen("OPS-1")
    assert tracker(jira).issue_state("OPS-1") == OPEN


def test_finds_an_issue_an_unrecorded_attempt_created_by_its_label_once_search_shows_it() -> None:
    now = [1000.0]
    with JiraEmulator(
        email="bot@acme.test", token=TOKEN, projects={"OPS": ("Task",)}, clock=lambda: now[0]
    ) as jira:
        t = tracker(jira)
        made = t.create_issue("mine", "b", [], marker="m-2")
        assert t.find_issue("m-2") is None  # Jira's search has not caught up with the create yet
        now[0] += DEFAULT_SEARCH_LAG
        assert t.find_issue("m-2") == made
        assert t.find_issue("m-3") is None
        search = [c for c in jira.calls if c.path == "/rest/api/3/search/jql"]
        assert search[0].query["jql"] == 'project = "OPS" AND labels = "m-2"'
        assert DEFAULT_SEARCH_LAG < SEARCH_SETTLE_SECONDS  # a retried create waits longer than the lag


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ("bad token", "refused the credentials (401)"),
        ("unknown project", "invalid (400) (fields: project)"),
        ("unknown type", "invalid (400) (fields: issuetype)"),
    ],
)
def test_refusals_say_why_and_are_not_retried(jira: JiraEmulator, setup: str, words: str) -> None:
    t = tracker(
        jira,
        token="wrong" if setup == "bad token" else TOKEN,
        project="NOPE" if setup == "unknown project" else "OPS",
        kind="Epic" if setup == "unknown type" else "Task",
    )
    with pytest.raises(TrackerRefused) as refused:
        t.create_issue("t", "b", [], marker="m")
    assert words in refused.value.reason
    assert jira.issues == {}


def test_a_summary_over_jiras_limit_is_refused(jira: JiraEmulator) -> None:
    with pytest.raises(TrackerRefused, match="summary"):
        tracker(jira).create_issue("x" * 256, "b", [], marker="m")


def test_an_unknown_issue_is_refused(jira: JiraEmulator) -> None:
    with pytest.raises(TrackerRefused, match="404"):
        tracker(jira).issue_state("OPS-41")


# A 5xx may come after Jira made the issue: its retry waits for the search to show it. A 429 made nothing.
@pytest.mark.parametrize(
    ("status", "headers", "wait"),
    [
        (503, {}, SEARCH_SETTLE_SECONDS),
        (429, {"Retry-After": "12"}, 12.0),
        (502, {"Retry-After": "90"}, 90.0),
    ],
)
def test_outages_and_rate_limits_are_retried(
    jira: JiraEmulator, status: int, headers: dict[str, str], wait: float | None
) -> None:
    jira.fail(status, headers=headers)
    with pytest.raises(TrackerError) as failed:
        tracker(jira).create_issue("t", "b", [], marker="m")
    assert failed.value.retry_after == wait
    assert tracker(jira).create_issue("t", "b", [], marker="m").key == "OPS-1"


def test_a_slow_jira_is_a_timeout_to_retry(jira: JiraEmulator) -> None:
    jira.latency = 1.0
    with pytest.raises(TrackerError, match="timed out"):
        tracker(jira, timeout=0.2).issue_state("OPS-1")


def test_the_credentials_never_reach_the_log(jira: JiraEmulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(TrackerRefused):
        tracker(jira, token="wrong").create_issue("secret title", "b", [], marker="m")
    assert caplog.records and "wrong" not in caplog.text and "secret title" not in caplog.text
    assert TOKEN not in caplog.text
