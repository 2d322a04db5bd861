"""The publisher the config names, with the GitHub token from the environment; None when none is set."""

from __future__ import annotations

from bot.ops.config import IncidentConfig
from bot.ops.settings import Settings
from bot.ops.startup import StartupError
from bot.publishers.github import GitHubPublisher
from commands.publisher import Publisher


class PublisherSetupError(StartupError):
    """Publishing is configured without its token: worded for the operator, naming the variable."""


def make_publisher(settings: Settings, config: IncidentConfig) -> Publisher | None:
    """Build `[publish.github]`'s adapter (sharing INCIDENTBOT_GITHUB_TOKEN with the tracker)."""
    github = config.publish.github
    if github is None:
        return None
    if settings.incidentbot_github_token is None:
        raise PublisherSetupError("[publish.github] is configured but INCIDENTBOT_GITHUB_TOKEN is not set")
    return GitHubPublisher(
        github.repo,
        github.branch,
        settings.incidentbot_github_token.get_secret_value(),
        base_url=github.api_url or settings.incidentbot_github_url,
    )
