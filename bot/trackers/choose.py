"""The tracker the config names, with its credentials from the environment; None when none is configured."""

from __future__ import annotations

from bot.ops.config import IncidentConfig
from bot.ops.settings import Settings
from bot.ops.startup import StartupError
from bot.trackers.github import GitHubTracker
from bot.trackers.jira import JiraTracker
from commands.tracker import Tracker


class TrackerSetupError(StartupError):
    """A tracker is configured without its credentials: worded for the operator, naming the variables."""


def make_tracker(settings: Settings, config: IncidentConfig) -> Tracker | None:
    """Build the configured tracker's adapter; raise TrackerSetupError when its credentials are missing."""
    github, jira = config.trackers.github, config.trackers.jira
    if github is not None:
        if settings.incidentbot_github_token is None:
            raise TrackerSetupError("[trackers.github] is configured but INCIDENTBOT_GITHUB_TOKEN is not set")
        return GitHubTracker(
            github.repo,
            settings.incidentbot_github_token.get_secret_value(),
            base_url=settings.incidentbot_github_url,
        )
    if jira is not None:
        if settings.incidentbot_jira_email is None or settings.incidentbot_jira_token is None:
            raise TrackerSetupError(
                "[trackers.jira] is configured but INCIDENTBOT_JIRA_EMAIL or INCIDENTBOT_JIRA_TOKEN "
                "is not set"
            )
        return JiraTracker(
            jira.site,
            jira.project,
            jira.issue_type,
            settings.incidentbot_jira_email,
            settings.incidentbot_jira_token.get_secret_value(),
        )
    return None
