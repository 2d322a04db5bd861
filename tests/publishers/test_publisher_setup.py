"""Which publisher the config and environment make: none without the section; no token, a clear error."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from bot.ops.config import IncidentConfig
from bot.ops.settings import Settings
from bot.publishers.choose import PublisherSetupError, make_publisher
from bot.publishers.github import GitHubPublisher

SECTION = {"publish": {"github": {"repo": "acme/pm", "branch": "pm"}}}


def test_nothing_is_published_without_the_section() -> None:
    assert make_publisher(Settings(incidentbot_github_token=SecretStr("t")), IncidentConfig()) is None


def test_the_section_without_a_token_stops_the_start_naming_the_variable() -> None:
    with pytest.raises(PublisherSetupError, match="INCIDENTBOT_GITHUB_TOKEN is not set"):
        make_publisher(Settings(), IncidentConfig.model_validate(SECTION))


@pytest.mark.parametrize(
    ("api_url", "expected"),
    [(None, "https://ghe.acme.test/api/v3"), ("https://other.test/api", "https://other.test/api")],
)
def test_the_token_is_shared_and_api_url_defaults_to_the_github_url(
    api_url: str | None, expected: str
) -> None:
    section = {"publish": {"github": {**SECTION["publish"]["github"], "api_url": api_url}}}
    settings = Settings(
        incidentbot_github_token=SecretStr("ghp_secret"),
        incidentbot_github_url="https://ghe.acme.test/api/v3",
    )
    publisher = make_publisher(settings, IncidentConfig.model_validate(section))
    assert isinstance(publisher, GitHubPublisher)
    assert (publisher.repo, publisher.branch, publisher.where) == ("acme/pm", "pm", "acme/pm")
    assert publisher._client.base_url == expected
    assert "ghp_secret" not in repr(publisher) and "ghp_secret" not in repr(publisher._client)
