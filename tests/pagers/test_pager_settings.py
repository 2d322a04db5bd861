"""The pager settings: US defaults, EU or emulator URLs, a bounded timeout, and secrets kept out of sight."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.ops.settings import Settings
from bot.pagers.keys import key_variable


def test_defaults_are_the_us_services_and_no_inbound_webhooks(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "INCIDENTBOT_PAGERDUTY_URL",
        "INCIDENTBOT_OPSGENIE_URL",
        "INCIDENTBOT_PAGER_TIMEOUT_SECONDS",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.incidentbot_pagerduty_url == "https://events.pagerduty.com"
    assert settings.incidentbot_opsgenie_url == "https://api.opsgenie.com"
    assert settings.incidentbot_pager_timeout_seconds == 10.0
    assert settings.incidentbot_pagerduty_webhook_secret is None
    assert settings.incidentbot_opsgenie_webhook_token is None


def test_eu_urls_from_the_environment_lose_their_trailing_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INCIDENTBOT_PAGERDUTY_URL", " https://events.eu.pagerduty.com/ ")
    monkeypatch.setenv("INCIDENTBOT_OPSGENIE_URL", "https://api.eu.opsgenie.com/")
    settings = Settings()
    assert settings.incidentbot_pagerduty_url == "https://events.eu.pagerduty.com"
    assert settings.incidentbot_opsgenie_url == "https://api.eu.opsgenie.com"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("INCIDENTBOT_PAGERDUTY_URL", "events.pagerduty.com"),
        ("INCIDENTBOT_OPSGENIE_URL", "ftp://api.opsgenie.com"),
        ("INCIDENTBOT_PAGER_TIMEOUT_SECONDS", "0"),
        ("INCIDENTBOT_PAGER_TIMEOUT_SECONDS", "600"),
    ],
)
def test_bad_values_fail_at_start_up(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.lower()):
        Settings()


def test_webhook_secrets_never_show_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INCIDENTBOT_PAGERDUTY_WEBHOOK_SECRET", "pd-very-secret")
    monkeypatch.setenv("INCIDENTBOT_OPSGENIE_WEBHOOK_TOKEN", "og-very-secret")
    text = repr(Settings()) + str(Settings())
    assert "pd-very-secret" not in text and "og-very-secret" not in text


def test_key_variables_upper_case_the_name_and_turn_hyphens_into_underscores() -> None:
    assert key_variable("pagerduty", "payments-oncall") == "INCIDENTBOT_PAGERDUTY_KEY_PAYMENTS_ONCALL"
    assert key_variable("opsgenie", "db_team2") == "INCIDENTBOT_OPSGENIE_KEY_DB_TEAM2"
