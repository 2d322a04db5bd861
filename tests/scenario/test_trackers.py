"""Action items in a tracker, over signed HTTP against the strict Slack, GitHub and Jira emulators."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from bot.app import IncidentBot, create_app
from bot.emulator.github import GitHubEmulator
from bot.emulator.jira import JiraEmulator
from bot.ops.config import IncidentConfig
from bot.ops.settings import Settings
from bot.render.postmortem import PostmortemDrafts
from commands.jobs import JobKind
from commands.postmortem import load_postmortem
from commands.records import ActionItem
from tests.scenario.conftest import FakeClock, Harness

GITHUB = IncidentConfig.model_validate(
    {"trackers": {"github": {"repo": "acme/ops", "labels": ["incident"], "check_every": "10m"}}}
)
TRACKED = "incident_action_item_tracked"
DONE = "incident_action_item_done"
FAILED = "incident_job_failed"


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubEmulator]:
    with GitHubEmulator(token="ghp_scenario", repos=("acme/ops",)) as gh:
        monkeypatch.setenv("INCIDENTBOT_GITHUB_TOKEN", gh.token)
        monkeypatch.setenv("INCIDENTBOT_GITHUB_URL", gh.url)
        yield gh


@pytest.fixture
def tracked(configured_harness: Callable[..., Harness], github: GitHubEmulator) -> tuple[Harness, FakeClock]:
    del github  # asked for so its URL and token are in the environment the app reads
    clock = FakeClock()
    h = configured_harness(GITHUB, clock)
    h.command("declare sev2 Checkout is timing out")
    return h, clock


def tick(h: Harness, clock: FakeClock, **delta: float) -> None:
    clock.advance(**delta)
    h.bot.runtime.tick()
    h.settle()


def posts(h: Harness, channel: str, event_type: str) -> list[Any]:
    return [m for m in h.emu.channels[channel].messages if (m.metadata or {}).get("event_type") == event_type]


def items(h: Harness, number: int) -> list[ActionItem]:
    with h.bot.runtime.uow() as tx:
        found = list(tx.action_items.list_for(number))
        for item in found:
            tx.session.expunge(item)
        return found


def test_an_action_item_becomes_an_issue_linked_in_the_room_and_closing_it_marks_it_done(
    tracked: tuple[Harness, FakeClock], github: GitHubEmulator
) -> None:
    h, clock = tracked
    room = h.room(1).id
    h.command("action Retry payments & alert on @here timeouts", channel=room)
    assert (
        h.replies()[-1] == ":white_check_mark: Action item 1 recorded for INC-1: no owner. The room has it."
    )
    tick(h, clock, seconds=1)

    [issue] = github.issues["acme/ops"]
    assert items(h, 1)[0].text == "Retry payments & alert on @here timeouts"
    assert issue.title == "[INC-1] Retry payments & alert on @here timeouts"
    assert issue.labels == ["incident"] and "INC-1: Checkout is timing out" in (issue.body or "")
    [link] = posts(h, room, TRACKED)
    url = f"{github.url}/web/acme/ops/issues/1"
    assert f"<{url}|#1>" in link.text
    assert "Retry payments &amp; alert on @\u2060here timeouts" in link.text  # shown as typed, inert

    pm = load_postmortem(1, uow=h.bot.runtime.uow, settings=h.bot.runtime.config)
    assert pm is not None and (pm.action_items[0].tracker_key, pm.action_items[0].tracker_url) == ("#1", url)
    markdown = PostmortemDrafts.for_config(h.bot.runtime.uow, h.bot.runtime.config).markdown(pm).decode()
    [row] = [line for line in markdown.splitlines() if line.startswith("- Retry payments")]
    assert row.endswith(f" · [\\#1]({url})")  # the key escaped as Markdown, the link kept

    tick(h, clock, minutes=10, seconds=1)  # checked while open: nothing changes
    assert items(h, 1)[0].done_at is None and posts(h, room, DONE) == []
    github.close("acme/ops", 1)
    tick(h, clock, minutes=5)
    assert items(h, 1)[0].done_at is None, "checked every 10m, not sooner"
    tick(h, clock, minutes=5, seconds=1)
    [item] = items(h, 1)
    assert item.done_by == "github" and item.done_at is not None
    [told] = posts(h, room, DONE)
    assert "#1 was closed in GitHub" in told.text
    assert "action_item_done" in h.timeline_kinds(1)
    gets = len([c for c in github.calls if c.method == "GET"])
    tick(h, clock, minutes=30)
    assert len([c for c in github.calls if c.method == "GET"]) == gets, "a closed issue is not checked again"
    assert len(posts(h, room, DONE)) == 1


def test_a_github_that_is_down_never_holds_up_the_incident_and_the_issue_follows(
    tracked: tuple[Harness, FakeClock], github: GitHubEmulator
) -> None:
    h, clock = tracked
    room = h.room(1).id
    github.fail(503, times=None)
    h.command("action Add a canary", channel=room)
    assert (
        h.replies()[-1] == ":white_check_mark: Action item 1 recorded for INC-1: no owner. The room has it."
    )
    assert [i.text for i in items(h, 1)] == ["Add a canary"]
    tick(h, clock, seconds=1)
    tick(h, clock, seconds=2)
    assert github.issues["acme/ops"] == [] and posts(h, room, TRACKED) == []
    assert posts(h, room, FAILED) == [], "a retryable failure tells nobody"
    h.command("note Still investigating", channel=room)  # the incident carries on meanwhile
    github.clear_faults()
    tick(h, clock, seconds=5)
    assert len(github.issues["acme/ops"]) == 1
    assert len(posts(h, room, TRACKED)) == 1


def test_a_lost_answer_after_the_create_is_found_not_created_twice(
    tracked: tuple[Harness, FakeClock], github: GitHubEmulator
) -> None:
    h, clock = tracked
    room = h.room(1).id
    github.fail(502, after=True)  # GitHub made the issue, then its gateway timed out
    h.command("action Add a canary", channel=room)
    tick(h, clock, seconds=1)
    assert len(github.issues["acme/ops"]) == 1 and posts(h, room, TRACKED) == []
    tick(h, clock, seconds=2)
    assert len(github.issues["acme/ops"]) == 1, "the retry found the issue by its marker"
    [link] = posts(h, room, TRACKED)
    assert "|#1>" in link.text


def test_a_refusing_github_tells_the_room_once_why(
    tracked: tuple[Harness, FakeClock], github: GitHubEmulator
) -> None:
    h, clock = tracked
    room = h.room(1).id
    github.read_only = True
    h.command("action Add a canary", channel=room)
    tick(h, clock, seconds=1)
    tick(h, clock, minutes=10)
    [told] = posts(h, room, FAILED)
    assert "could not create the action item's tracker issue for INC-1" in told.text
    assert "GitHub refused access (403)" in told.text
    assert [i.text for i in items(h, 1)] == ["Add a canary"] and items(h, 1)[0].done_at is None
    with h.bot.runtime.uow() as tx:
        [job] = [j for j in tx.jobs.pending_for(1) if j.kind == JobKind.TRACKER_ISSUE] or [None]
    assert job is None, "given up: not retried"


def test_a_drill_files_no_issues(configured_harness: Callable[..., Harness], github: GitHubEmulator) -> None:
    clock = FakeClock()
    h = configured_harness(GITHUB, clock)
    h.command("declare sev2 --drill Failover practice")
    h.command("action Write the runbook", channel=h.room(1).id)
    tick(h, clock, seconds=1)
    assert [i.text for i in items(h, 1)] == ["Write the runbook"]
    assert github.issues["acme/ops"] == [] and github.calls == []


def test_jira_issue_created_linked_and_done_when_its_status_is_done(
    configured_harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch
) -> None:
    with JiraEmulator(email="bot@acme.test", token="jira-scenario", projects={"OPS": ("Task",)}) as jira:
        monkeypatch.setenv("INCIDENTBOT_JIRA_EMAIL", jira.email)
        monkeypatch.setenv("INCIDENTBOT_JIRA_TOKEN", jira.token)
        config = IncidentConfig.model_validate(
            {
                "trackers": {
                    "jira": {"site": jira.url, "project": "OPS", "issue_type": "Task", "check_every": "5m"}
                }
            }
        )
        clock = FakeClock()
        h = configured_harness(config, clock)
        h.command("declare sev2 Search is slow")
        room = h.room(1).id
        h.command("action Add an index", channel=room)
        tick(h, clock, seconds=1)
        issue = jira.issues["OPS-1"]
        assert issue.summary == "[INC-1] Add an index" and issue.description is not None
        [link] = posts(h, room, TRACKED)
        assert f"<{jira.url}/browse/OPS-1|OPS-1>" in link.text
        jira.close("OPS-1")
        tick(h, clock, minutes=5, seconds=1)
        [item] = items(h, 1)
        assert item.done_by == "jira"
        [told] = posts(h, room, DONE)
        assert "OPS-1 was closed in Jira" in told.text


def test_a_lost_jira_answer_is_found_once_jiras_search_has_caught_up_not_created_twice(
    configured_harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Jira's search lags a create (here 30 s): the retry must not search before the issue shows."""
    clock = FakeClock()
    with JiraEmulator(
        email="bot@acme.test",
        token="jira-lag",
        projects={"OPS": ("Task",)},
        search_lag=30.0,
        clock=lambda: clock.now().timestamp(),
    ) as jira:
        monkeypatch.setenv("INCIDENTBOT_JIRA_EMAIL", jira.email)
        monkeypatch.setenv("INCIDENTBOT_JIRA_TOKEN", jira.token)
        config = IncidentConfig.model_validate(
            {"trackers": {"jira": {"site": jira.url, "project": "OPS", "issue_type": "Task"}}}
        )
        h = configured_harness(config, clock)
        h.command("declare sev2 Search is slow")
        room = h.room(1).id
        jira.fail(504, after=True, method="POST")  # Jira made the issue; its gateway timed out
        h.command("action Add an index", channel=room)
        tick(h, clock, seconds=1)
        for _ in range(6):  # the backoff alone would retry, search too early, and create OPS-2
            tick(h, clock, seconds=8)
        assert list(jira.issues) == ["OPS-1"] and posts(h, room, TRACKED) == []
        tick(h, clock, seconds=15)  # a minute after the failed create: the search shows OPS-1
        assert list(jira.issues) == ["OPS-1"], "the retry created a second issue"
        [link] = posts(h, room, TRACKED)
        assert "|OPS-1>" in link.text


def webhook(h: Harness, body: bytes, signature: str, event: str = "issues") -> int:
    request = urllib.request.Request(
        h.server.base_url + "/webhooks/github",
        data=body,
        headers={
            "X-Hub-Signature-256": signature,
            "X-GitHub-Event": event,
            "Content-Type": "application/json",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def signed(body: bytes, secret: str = "whsec") -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_githubs_signed_webhook_gets_a_closed_issue_checked_at_the_next_tick(
    configured_harness: Callable[..., Harness], github: GitHubEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INCIDENTBOT_GITHUB_WEBHOOK_SECRET", "whsec")
    clock = FakeClock()
    h = configured_harness(GITHUB, clock)
    h.command("declare sev2 Checkout is timing out")
    room = h.room(1).id
    h.command("action Add a canary", channel=room)
    tick(h, clock, seconds=1)
    github.close("acme/ops", 1)
    body = json.dumps(
        {"action": "closed", "issue": {"number": 1}, "repository": {"full_name": "acme/ops"}}
    ).encode()

    assert webhook(h, body, signed(body, "wrong")) == 401
    assert webhook(h, body, "") == 401
    tick(h, clock, seconds=1)
    assert items(h, 1)[0].done_at is None, "an unsigned delivery changes nothing"

    assert webhook(h, b"{}", signed(b"{}"), event="ping") == 200
    assert webhook(h, body, signed(body)) == 202
    tick(h, clock, seconds=1)  # well before the 10m check
    assert items(h, 1)[0].done_by == "github"
    assert len(posts(h, room, DONE)) == 1


def test_two_replicas_ticking_at_once_check_each_issue_once(
    tracked: tuple[Harness, FakeClock], github: GitHubEmulator, sqlite_url: str
) -> None:
    h, clock = tracked
    room = h.room(1).id
    h.command("action Add a canary", channel=room)
    h.command("action Page the DBAs sooner", channel=room)
    tick(h, clock, seconds=1)
    assert len(github.issues["acme/ops"]) == 2
    github.close("acme/ops", 1)
    github.close("acme/ops", 2)
    settings = Settings(
        slack_bot_token=SecretStr(h.emu.bot_token),
        slack_signing_secret=SecretStr(h.emu.signing_secret),
        slack_api_url=h.emu.api_url,
        database_url=sqlite_url,
    )
    other = create_app(settings, GITHUB, lease=timedelta(seconds=30), clock=clock)
    try:
        clock.advance(minutes=10, seconds=1)
        barrier = threading.Barrier(2)

        def replica_tick(bot: IncidentBot) -> None:
            barrier.wait(timeout=10)
            bot.runtime.tick()

        threads = [threading.Thread(target=replica_tick, args=(b,)) for b in (h.bot, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        h.settle()
        other.runtime.drain()
    finally:
        other.close()
    checks = [c for c in github.calls if c.method == "GET" and c.path.startswith("/repos/acme/ops/issues/")]
    assert sorted(c.path for c in checks) == ["/repos/acme/ops/issues/1", "/repos/acme/ops/issues/2"]
    assert len(posts(h, room, DONE)) == 2
    assert [i.done_by for i in items(h, 1)] == ["github", "github"]
