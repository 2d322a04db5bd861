"""Environment settings and TOML config: parsing, defaults, ordering and operator-facing errors."""

from __future__ import annotations

import os
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.ops.config import (
    DEFAULT_SEVERITIES,
    ConfigError,
    IncidentConfig,
    effective_config_text,
    format_duration,
    load_config,
    parse_duration,
)
from bot.ops.settings import Settings, normalise_database_url

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "docs" / "incidentbot.example.toml"

ENV_VARS = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "DATABASE_URL",
    "INCIDENTBOT_CONFIG",
    "PORT",
    "INCIDENTBOT_MIGRATE_ON_START",
    "LOG_LEVEL",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Start each settings test from an empty environment so the developer's shell cannot leak in."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def write(tmp_path: Path, text: str, name: str = "incidentbot.toml") -> Path:
    """Write a config file for a test."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- settings ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("clean_env")
def test_settings_defaults() -> None:
    s = Settings()
    assert s.slack_bot_token is None and s.slack_signing_secret is None and s.slack_app_token is None
    assert s.slack_api_url == "https://slack.com/api/"
    assert s.database_url == f"sqlite:///{os.environ['XDG_DATA_HOME']}/incidentbot/incidentbot.db"
    assert s.incidentbot_config is None
    assert s.port == 3000
    assert s.incidentbot_migrate_on_start is True
    assert s.log_level == "INFO"
    assert s.socket_mode is False
    assert s.incidentbot_record_budget_seconds == 1.0


def test_settings_from_env(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("SLACK_BOT_TOKEN", "xoxb-secret-bot")
    clean_env.setenv("SLACK_SIGNING_SECRET", "signing-secret-value")
    clean_env.setenv("SLACK_APP_TOKEN", "xapp-secret-app")
    clean_env.setenv("SLACK_API_URL", "http://localhost:8080/api")
    clean_env.setenv("DATABASE_URL", "postgres://u:p@db:5432/inc")
    clean_env.setenv("INCIDENTBOT_CONFIG", "/etc/incidentbot.toml")
    clean_env.setenv("PORT", "8080")
    clean_env.setenv("INCIDENTBOT_MIGRATE_ON_START", "false")
    clean_env.setenv("LOG_LEVEL", "debug")
    s = Settings()
    assert s.slack_bot_token is not None and s.slack_bot_token.get_secret_value() == "xoxb-secret-bot"
    assert s.slack_signing_secret is not None
    assert s.socket_mode is True
    assert s.slack_api_url == "http://localhost:8080/api/"
    assert s.database_url == "postgresql+psycopg://u:p@db:5432/inc"
    assert s.incidentbot_config == Path("/etc/incidentbot.toml")
    assert s.port == 8080
    assert s.incidentbot_migrate_on_start is False
    assert s.log_level == "DEBUG"


def test_empty_env_value_means_unset(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("SLACK_APP_TOKEN", "")
    assert Settings().slack_app_token is None
    assert Settings().socket_mode is False


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql://u:p@h:5432/db?sslmode=require", "postgresql+psycopg://u:p@h:5432/db?sslmode=require"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///incidentbot.db", "sqlite:///incidentbot.db"),
        ("sqlite://", "sqlite://"),
    ],
)
def test_database_url_normalisation(given: str, expected: str) -> None:
    assert normalise_database_url(given) == expected


def test_api_url_keeps_existing_slash(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("SLACK_API_URL", "https://slack.com/api/")
    assert Settings().slack_api_url == "https://slack.com/api/"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "abc"),
        ("PORT", "70000"),
        ("LOG_LEVEL", "chatty"),
        ("SLACK_API_URL", "slack.com/api"),
        ("INCIDENTBOT_TICK_SECONDS", "0"),
        ("INCIDENTBOT_RECORD_BUDGET_SECONDS", "0"),
        ("INCIDENTBOT_RECORD_BUDGET_SECONDS", "3"),  # past Slack's 3 s, the ack would never arrive
    ],
)
def test_bad_env_values_rejected(clean_env: pytest.MonkeyPatch, name: str, value: str) -> None:
    clean_env.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_secrets_hidden(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("SLACK_BOT_TOKEN", "xoxb-secret-bot")
    clean_env.setenv("SLACK_SIGNING_SECRET", "signing-secret-value")
    clean_env.setenv("SLACK_APP_TOKEN", "xapp-secret-app")
    s = Settings()
    for text in (repr(s), str(s), repr(s.model_dump()), s.model_dump_json()):
        assert "xoxb-secret-bot" not in text
        assert "signing-secret-value" not in text
        assert "xapp-secret-app" not in text


def test_no_dotenv_reading(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PORT=9999\nSLACK_BOT_TOKEN=xoxb-from-file\n")
    clean_env.chdir(tmp_path)
    s = Settings()
    assert s.port == 3000 and s.slack_bot_token is None


# --- durations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("1h30m", timedelta(minutes=90)),
        ("1d", timedelta(days=1)),
        (" 2h 5m ", timedelta(hours=2, minutes=5)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "0m", "0h0m", "-5m", "15", "15 minutes", "m", "1.5h", "30m1h", "soon"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize("text", ["45s", "15m", "1h", "1h30m", "4h", "1d", "1d2h3m4s"])
def test_duration_round_trip(text: str) -> None:
    assert format_duration(parse_duration(text)) == text


def test_format_duration_normalises() -> None:
    assert format_duration(timedelta(seconds=90)) == "1m30s"
    assert format_duration(timedelta(minutes=60)) == "1h"


# --- config -----------------------------------------------------------------------------------


def test_defaults() -> None:
    cfg = load_config(None)
    assert cfg == IncidentConfig()
    assert cfg.announce_channel == "incidents"
    assert cfg.channel_prefix == "inc"
    assert cfg.timezone == "UTC" and str(cfg.zone) == "UTC"
    assert cfg.templates_dir is None and cfg.admins == [] and cfg.admin_group is None
    assert cfg.severity_names() == ["sev1", "sev2", "sev3", "sev4"]
    assert [s.update_every for s in cfg.severities.values()] == [
        timedelta(minutes=15),
        timedelta(minutes=30),
        timedelta(hours=1),
        timedelta(hours=4),
    ]
    assert cfg.severities["sev1"].description == "Critical: customer-facing outage"
    assert list(cfg.roles) == ["commander", "comms", "scribe", "ops"]
    assert cfg.statuses == ["investigating", "identified", "monitoring", "resolved"]
    assert cfg.default_severity == "sev4"
    assert cfg.rank("sev1") == 0 and cfg.rank("sev4") == 3
    with pytest.raises(KeyError):
        cfg.rank("sev9")


def test_defaults_are_not_shared_between_instances() -> None:
    a, b = IncidentConfig(), IncidentConfig()
    a.admins.append("U1")
    assert b.admins == []
    assert a.severities is not DEFAULT_SEVERITIES


def test_example_file_loads_and_matches_defaults() -> None:
    cfg = load_config(EXAMPLE)
    assert cfg.severity_names() == ["sev1", "sev2", "sev3", "sev4"]
    # The example documents the built-in defaults; if one changes, so must the other.
    assert cfg == IncidentConfig()


def test_example_documents_every_key() -> None:
    text = EXAMPLE.read_text()
    for key in IncidentConfig.model_fields:
        assert key in text, key


def test_order_preserved_and_rank(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
channel_prefix = "war-room"
timezone = "Europe/Berlin"

[severities.p0]
description = "Everything is on fire"
update_every = "10m"

[severities.z-minor]
description = "Meh"
update_every = "1d"

[severities.a-major]
description = "Bad"
update_every = "1h30m"
""",
    )
    cfg = load_config(path)
    assert cfg.severity_names() == ["p0", "z-minor", "a-major"]
    assert cfg.rank("a-major") == 2
    assert cfg.default_severity == "a-major"
    assert cfg.severities["a-major"].update_every == timedelta(minutes=90)
    assert cfg.zone.key == "Europe/Berlin"
    # Roles and statuses not given: defaults.
    assert list(cfg.roles) == ["commander", "comms", "scribe", "ops"]


def test_admins_and_templates_dir(tmp_path: Path) -> None:
    (tmp_path / "tpl").mkdir()
    path = write(
        tmp_path,
        'admins = ["U123", "W456"]\nadmin_group = "S123"\ntemplates_dir = "tpl"\nannounce_channel = "#ops"\n',
    )
    cfg = load_config(path)
    assert cfg.admins == ["U123", "W456"]
    assert cfg.admin_group == "S123"
    assert cfg.templates_dir == tmp_path / "tpl"  # relative to the config file, not the cwd
    assert cfg.announce_channel == "ops"


def test_effective_config_text_round_trips(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
announce_channel = "C0123ABCD"
admins = ["U1"]
admin_group = "S9"
statuses = ["investigating", "mitigated", "resolved"]

[severities.critical]
description = "It's \\"bad\\" — really"
update_every = "90s"

[severities.minor]
description = "ok"
update_every = "1h30m"

[roles.commander]
description = "Boss"
""",
    )
    cfg = load_config(path)
    text = effective_config_text(cfg)
    assert 'update_every = "1m30s"' in text and 'update_every = "1h30m"' in text
    data = tomllib.loads(text)
    assert list(data["severities"]) == ["critical", "minor"]
    again = write(tmp_path, text, "again.toml")
    assert load_config(again) == cfg


def test_effective_config_text_of_defaults_is_toml() -> None:
    text = effective_config_text(IncidentConfig())
    data = tomllib.loads(text)
    assert data["severities"]["sev1"]["update_every"] == "15m"
    assert data["severities"]["sev4"]["update_every"] == "4h"


# --- config errors: every one names the file, the key path and the problem ---------------------


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ('chanel_prefix = "inc"\n', "chanel_prefix", "did you mean 'channel_prefix'"),
        ('[severities.sev1]\ndescription = "x"\nupdate_evry = "5m"\n', "severities.sev1", "update_evry"),
        (
            '[severities.sev1]\ndescription = "x"\nupdate_every = "0m"\n',
            "severities.sev1.update_every",
            "positive",
        ),
        (
            '[severities.sev1]\ndescription = "x"\nupdate_every = "-5m"\n',
            "severities.sev1.update_every",
            "positive",
        ),
        (
            '[severities.sev2]\ndescription = "x"\nupdate_every = "soon"\n',
            "severities.sev2.update_every",
            "'soon'",
        ),
        (
            '[severities.sev2]\ndescription = "x"\nupdate_every = 900\n',
            "severities.sev2.update_every",
            "duration",
        ),
        ('[severities.sev2]\ndescription = "x"\n', "severities.sev2.update_every", "missing"),
        ('[severities.Sev2]\ndescription = "x"\nupdate_every = "5m"\n', "severities.Sev2", "lowercase"),
        ('channel_prefix = "INC"\n', "channel_prefix", "lowercase"),
        ('channel_prefix = "a-very-long-channel-prefix"\n', "channel_prefix", "1-20"),
        ('channel_prefix = ""\n', "channel_prefix", "1-20"),
        ('timezone = "Mars/Olympus"\n', "timezone", "Mars/Olympus"),
        ('admins = ["@alice"]\n', "admins", "user ID"),
        ('admin_group = "oncall"\n', "admin_group", "group ID"),
        ('statuses = ["open", "resolved"]\n', "statuses", "investigating"),
        ('statuses = ["investigating", "done"]\n', "statuses", "resolved"),
        ('statuses = ["investigating", "x", "x", "resolved"]\n', "statuses", "repeat"),
        ("severities = {}\n", "severities", "at least one"),
        ('[roles.lead]\ndescription = "x"\n', "roles", "commander"),
        ('[roles.commander]\ndescripton = "x"\n', "roles.commander", "did you mean 'description'"),
        (
            '[roles.commander]\ndescription = "x"\nstatuses = ["investigating", "resolved"]\n',
            "roles.commander.statuses",
            "before the first [table]",
        ),
        ('templates_dir = "nope"\n', "templates_dir", "does not exist"),
        ("announce_channel = 5\n", "announce_channel", "string"),
    ],
)
def test_config_errors_name_file_and_key(tmp_path: Path, text: str, key: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message
    assert f"{key}:" in message or f"{key}." in message
    assert fragment in message


def test_several_problems_reported_together(tmp_path: Path) -> None:
    path = write(tmp_path, 'channel_prefix = "BAD"\ntimezone = "Nowhere/Land"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "2 problems" in message and "channel_prefix:" in message and "timezone:" in message


def test_toml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, 'announce_channel = "incidents"\nchannel_prefix = inc\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message and "TOML syntax error" in message
    assert "line 2" in message and "column" in message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="file not found") as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="directory"):
        load_config(tmp_path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(b'announce_channel = "\xff"\n')
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config(path)


def test_config_is_immutable() -> None:
    cfg = IncidentConfig()
    with pytest.raises(ValidationError):
        cfg.channel_prefix = "other"


def test_severity_description() -> None:
    cfg = IncidentConfig()
    assert cfg.severity_description("sev2") == "Major: degraded service"
    assert cfg.severity_description("gone") == ""


MINIMAL = 'announce_channel = "ops-incidents"\n\n[severities.urgent]\nupdate_every = "30m"\n'


def test_minimal_config_needs_no_description(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL))
    assert cfg.announce_channel == "ops-incidents"
    assert cfg.severity_names() == ["urgent"] and cfg.default_severity == "urgent"
    assert cfg.severity_description("urgent") == ""
    assert cfg.update_every("urgent") == timedelta(minutes=30)


def test_effective_config_of_a_severity_without_description_round_trips(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, MINIMAL))
    text = effective_config_text(cfg)
    assert "description" not in tomllib.loads(text)["severities"]["urgent"]
    assert load_config(write(tmp_path, text, "again.toml")) == cfg


def test_targets_are_optional_durations_per_severity_and_round_trip(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[severities.sev1]\nupdate_every = "15m"\nacknowledge_within = "5m"\nresolve_within = "4h"\n'
        '[severities.sev2]\nupdate_every = "30m"\n',
    )
    cfg = load_config(path)
    assert cfg.targets("sev1") == {
        "acknowledge_within": timedelta(minutes=5),
        "resolve_within": timedelta(hours=4),
    }
    assert cfg.targets("sev2") == {}
    again = load_config(write(tmp_path, effective_config_text(cfg), "again.toml"))
    assert again == cfg
    with pytest.raises(ConfigError, match="mitigate_within"):
        load_config(
            write(tmp_path, '[severities.sev1]\nupdate_every = "15m"\nmitigate_within = 900\n', "bad.toml")
        )
