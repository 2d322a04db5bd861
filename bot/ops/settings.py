"""Environment settings: Slack tokens, database, ports, log level, job timings; typos fail at start-up."""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from store.paths import default_database_url

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def normalise_database_url(url: str) -> str:
    """Rewrite Heroku-style PostgreSQL URLs so SQLAlchemy picks the psycopg 3 driver we ship."""
    url = url.strip()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


MAX_RECORD_BUDGET = 2.5
# Waitress threads: each ack of a burst holds one while it waits for its group commit, so a burst larger
# than the pool is split into several commits one after another (16 threads made 100 acks wait for 7).
HTTP_THREADS = 128
MAX_HTTP_THREADS = 1000


class Settings(BaseSettings):
    """Environment settings; secrets are SecretStr so they never leak through repr, str or logs."""

    model_config = SettingsConfigDict(
        env_prefix="",
        env_file=None,
        case_sensitive=False,
        env_ignore_empty=True,
        extra="ignore",
        validate_default=True,
    )

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    # Bearer token Alertmanager and Grafana send to /webhooks/alertmanager and /webhooks/grafana; unset:
    # those routes are not served at all.
    incidentbot_webhook_token: SecretStr | None = None
    # Without DATABASE_URL: $XDG_DATA_HOME/incidentbot/incidentbot.db (or ~/.local/share/…), so `db upgrade`,
    # `serve` and `export` use one file wherever they are started from.
    database_url: str = Field(default_factory=default_database_url)
    incidentbot_config: Path | None = None
    port: int = 3000
    incidentbot_http_threads: int = HTTP_THREADS
    incidentbot_migrate_on_start: bool = True
    log_level: str = "INFO"
    # How long a claim on a Slack job lasts unless renewed; the holder renews it every fifth of this, so
    # only a crashed process's jobs wait this long before another process resumes them.
    incidentbot_job_lease_seconds: float = 5.0
    # After SIGTERM: how long to finish work in hand before releasing the rest to the next process.
    incidentbot_shutdown_grace_seconds: float = 10.0
    # How long one Web API call may take before it counts as timed out (it may still have landed).
    incidentbot_slack_timeout_seconds: int = 10
    # How often the periodic tick resumes owed Slack work (and later, reminders).
    incidentbot_tick_seconds: float = 1.0
    # How long a command's acknowledgement waits for its change's commit (Slack allows 3 s in all).
    incidentbot_record_budget_seconds: float = 1.0
    # Whether `serve` runs the Slack jobs and the tick itself; false on web replicas beside `incidentbot
    # work` processes. SQLite always runs them in `serve` (it has no NOTIFY, and it is for one process).
    incidentbot_run_worker: bool = True
    # `incidentbot work` answers GET /healthz on this port when set (a worker serves nothing else).
    incidentbot_worker_health_port: int | None = None
    # `incidentbot work` lowers its CPU priority by this much (Unix nice), so on a host it shares with
    # web processes, acknowledgements get the CPU first and Slack work takes what is left (0: leave it).
    incidentbot_worker_nice: int = Field(default=10, ge=0, le=19)
    # Pager services' base URLs (EU accounts: https://events.eu.pagerduty.com, https://api.eu.opsgenie.com);
    # their keys are read per target from INCIDENTBOT_PAGERDUTY_KEY_<NAME> / INCIDENTBOT_OPSGENIE_KEY_<NAME>.
    incidentbot_pagerduty_url: str = "https://events.pagerduty.com"
    incidentbot_opsgenie_url: str = "https://api.opsgenie.com"
    # How long one pager API call may take before it counts as failed (and its job step is retried).
    incidentbot_pager_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Inbound acknowledgements: /webhooks/pagerduty and /webhooks/opsgenie are served only when set.
    incidentbot_pagerduty_webhook_secret: SecretStr | None = None
    incidentbot_opsgenie_webhook_token: SecretStr | None = None

    # Issue trackers (bot/trackers/): GitHub's token and API base (GitHub Enterprise: https://HOST/api/v3),
    # Jira Cloud's account email and API token (basic auth).
    incidentbot_github_token: SecretStr | None = None
    incidentbot_github_url: str = "https://api.github.com"
    incidentbot_jira_email: str | None = None
    incidentbot_jira_token: SecretStr | None = None
    # GitHub webhook (issues events) at /webhooks/github: the secret its X-Hub-Signature-256 is made with.
    incidentbot_github_webhook_secret: SecretStr | None = None

    @field_validator("incidentbot_github_url")
    @classmethod
    def _github_url(cls, value: str) -> str:
        """Paths are joined onto it, so no trailing slash; only http(s)."""
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_ends_with_slash(cls, value: str) -> str:
        """slack_sdk joins method names onto the base URL, so it must end with a slash."""
        value = value.strip()
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        return value if value.endswith("/") else value + "/"

    @field_validator("incidentbot_pagerduty_url", "incidentbot_opsgenie_url")
    @classmethod
    def _pager_url_is_http(cls, value: str) -> str:
        """Catch a mistyped pager URL at start-up rather than at the first page; paths are added to it."""
        value = value.strip()
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        return value.rstrip("/")

    @field_validator("incidentbot_webhook_token")
    @classmethod
    def _token_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        """A short shared token can be guessed: refuse it at start-up rather than serve with it."""
        if value is not None and len(value.get_secret_value().strip()) < 16:
            raise ValueError("must be at least 16 characters (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url_driver(cls, value: str) -> str:
        """Accept the URLs hosting platforms hand out while always using the psycopg 3 driver."""
        value = normalise_database_url(value)
        if not value:
            raise ValueError("must not be empty")
        return value

    @field_validator("port", "incidentbot_worker_health_port")
    @classmethod
    def _port_in_range(cls, value: int | None) -> int | None:
        """Catch a mistyped PORT at start-up rather than at bind time."""
        if value is not None and not 1 <= value <= 65535:
            raise ValueError(f"must be between 1 and 65535, got {value}")
        return value

    @field_validator(
        "incidentbot_job_lease_seconds", "incidentbot_tick_seconds", "incidentbot_shutdown_grace_seconds"
    )
    @classmethod
    def _positive_seconds(cls, value: float) -> float:
        """A zero or negative interval would spin the tick or let every worker steal every job."""
        if value <= 0:
            raise ValueError(f"must be a positive number of seconds, got {value}")
        return value

    @field_validator("incidentbot_record_budget_seconds")
    @classmethod
    def _budget_inside_slacks_deadline(cls, value: float) -> float:
        """Slack gives up on an unanswered command after 3 s; leave room for the network and Bolt."""
        if not 0 < value <= MAX_RECORD_BUDGET:
            raise ValueError(f"must be more than 0 and at most {MAX_RECORD_BUDGET} seconds, got {value}")
        return value

    @field_validator("incidentbot_http_threads")
    @classmethod
    def _threads_in_range(cls, value: int) -> int:
        """At least one thread to answer with, and no more than the connections waitress takes."""
        if not 1 <= value <= MAX_HTTP_THREADS:
            raise ValueError(f"must be between 1 and {MAX_HTTP_THREADS}, got {value}")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        """Fail fast on a log level the logging module would silently misread."""
        level = value.strip().upper()
        if level not in _LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(_LOG_LEVELS)}, got {value!r}")
        return level

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def serve_runs_jobs(self) -> bool:
        """Whether `serve` runs a worker in its own process: always on SQLite, else unless turned off."""
        return self.incidentbot_run_worker or self.is_sqlite

    @property
    def socket_mode(self) -> bool:
        """Socket Mode is chosen by the presence of an app-level token, as Slack's own tooling does."""
        return self.slack_app_token is not None and bool(self.slack_app_token.get_secret_value())

    @property
    def log_level_number(self) -> int:
        """The numeric level for logging.basicConfig and friends."""
        return logging.getLevelNamesMapping()[self.log_level]
