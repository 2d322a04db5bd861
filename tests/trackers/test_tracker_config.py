"""[trackers.github] and [trackers.jira]: validated like the rest of the config, credentials from the env."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import SecretStr

from bot.ops.config import ConfigError, config_from_mapping, effective_config_text
from bot.ops.settings import Settings
from bot.ops.startup import StartupError
from bot.trackers.choose import make_tracker
from bot.trackers.github import GitHubTracker
from bot.trackers.jira import JiraTracker

JIRA = {"site": "https://acme.atlassian.net/", "project": "OPS", "issue_type": "Bug"}


def test_no_tracker_by_default() -> None:
    config = config_from_mapping({})
    assert config.tracker_name is None
    assert make_tracker(Settings(), config) is None
    assert "# trackers: none configured" in effective_config_text(config)


def test_github_with_its_token_and_enterprise_url() -> None:
    config = config_from_mapping({"trackers": {"github": {"repo": "acme/ops", "check_every": "30m"}}})
    assert (config.tracker_name, config.tracker_check_every) == ("github", timedelta(minutes=30))
    settings = Settings(
        incidentbot_github_token=SecretStr("ghp_x"), incidentbot_github_url="https://ghe.acme.test/api/v3/"
    )
    tracker = make_tracker(settings, config)
    assert isinstance(tracker, GitHubTracker) and tracker.repo == "acme/ops"
    assert '[trackers.github]\nrepo = "acme/ops"' in effective_config_text(config)
    assert 'check_every = "30m"' in effective_config_text(config)


def test_jira_with_its_credentials() -> None:
    config = config_from_mapping({"trackers": {"jira": JIRA}})
    assert config.tracker_name == "jira" and config.tracker_check_every == timedelta(minutes=10)
    settings = Settings(incidentbot_jira_email="bot@acme.test", incidentbot_jira_token=SecretStr("t"))
    tracker = make_tracker(settings, config)
    assert isinstance(tracker, JiraTracker) and tracker.site == "https://acme.atlassian.net"
    assert 'issue_type = "Bug"' in effective_config_text(config)


@pytest.mark.parametrize(
    ("trackers", "words"),
    [
        ({"github": {"repo": "acme/ops"}, "jira": JIRA}, "at most one tracker"),
        ({"github": {"repo": "acme"}}, 'repo must be "owner/name"'),
        ({"github": {"repo": "acme/ops", "check_every": "30s"}}, "at least 1m"),
        ({"github": {"repo": "acme/ops", "token": "ghp_x"}}, "unknown key"),
        ({"jira": {**JIRA, "project": "ops"}}, "Jira project key"),
        ({"jira": {**JIRA, "site": "acme.atlassian.net"}}, "site must be the site's URL"),
        ({"jira": {**JIRA, "labels": ["two words"]}}, "cannot contain spaces"),
    ],
)
def test_mistakes_fail_at_start_up_saying_what_is_wrong(trackers: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        config_from_mapping({"trackers": trackers})


@pytest.mark.parametrize(
    ("trackers", "variable"),
    [
        ({"github": {"repo": "acme/ops"}}, "INCIDENTBOT_GITHUB_TOKEN"),
        ({"jira": JIRA}, "INCIDENTBOT_JIRA_EMAIL"),
    ],
)
def test_a_tracker_without_its_credentials_refuses_to_start(
    trackers: dict[str, object], variable: str
) -> None:
    with pytest.raises(StartupError, match=variable):
        make_tracker(Settings(), config_from_mapping({"trackers": trackers}))
