"""Start-up checks: refuse a setup that cannot work and warn about one that limps, before serving anything."""

from __future__ import annotations

import logging
import secrets
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.ops.settings import Settings
from bot.slack.client import client_logger
from bot.slack.manifest import BOT_SCOPES, SCOPE_REASONS

__all__ = [
    "PERMANENT_TOKEN_ERRORS",
    "AuthCheck",
    "StartupError",
    "bolt_signing_secret",
    "check_bot_token",
    "log_auth_check",
    "require_bot_token",
    "require_credentials",
]

log = logging.getLogger(__name__)

# One try, bounded: Slack being slow or down at start is reported and the bot starts anyway.
AUTH_TEST_TIMEOUT = 10
SCOPES_HEADER = "x-oauth-scopes"
_FIX_TOKEN = (
    "copy the Bot User OAuth Token (xoxb-…) from your app's OAuth & Permissions page into SLACK_BOT_TOKEN"
)
_REINSTALL = "reinstall the app to the workspace and set SLACK_BOT_TOKEN to its new Bot User OAuth Token"

# auth.test errors that stay until an operator acts (Slack's auth.test reference), and what to do.
PERMANENT_TOKEN_ERRORS: dict[str, str] = {
    "invalid_auth": f"the token is not valid: {_FIX_TOKEN}",
    "not_authed": f"no token reached Slack: {_FIX_TOKEN}",
    "token_revoked": f"the token was revoked (the app was uninstalled or the token replaced): {_REINSTALL}",
    "account_inactive": f"the bot user or its workspace is deactivated: {_REINSTALL}",
    "not_allowed_token_type": f"this is not a bot token (an app-level or user token?): {_FIX_TOKEN}",
}


class StartupError(Exception):
    """Why `serve` must not start, worded for the operator: the variable at fault and what to do."""


def require_credentials(settings: Settings) -> None:
    """Refuse a setup that cannot serve safely, before anything (migrations included) is touched.

    Raises StartupError without SLACK_BOT_TOKEN, or in HTTP mode without SLACK_SIGNING_SECRET.
    """
    require_bot_token(settings)
    bolt_signing_secret(settings)


def require_bot_token(settings: Settings) -> None:
    """Refuse to start without SLACK_BOT_TOKEN (a worker needs no signing secret: it serves no requests)."""
    if settings.slack_bot_token is None or not settings.slack_bot_token.get_secret_value():
        raise StartupError(f"SLACK_BOT_TOKEN is not set: {_FIX_TOKEN}.")


def bolt_signing_secret(settings: Settings) -> str:
    """The secret Bolt verifies every HTTP request with; request verification is never switched off.

    Socket Mode needs none (envelopes arrive over a connection opened with the app token), so there,
    without SLACK_SIGNING_SECRET, a random secret makes any request over HTTP fail verification rather
    than be served unverified. Raises StartupError in HTTP mode without SLACK_SIGNING_SECRET.
    """
    if settings.slack_signing_secret is not None and settings.slack_signing_secret.get_secret_value():
        return settings.slack_signing_secret.get_secret_value()
    if settings.socket_mode:
        return secrets.token_hex(32)
    raise StartupError(
        "SLACK_SIGNING_SECRET is not set: in HTTP mode it is how the bot knows a request comes from Slack, "
        "so it refuses to serve without it. Copy the Signing Secret from your app's Basic Information page "
        "into SLACK_SIGNING_SECRET, or set SLACK_APP_TOKEN to run in Socket Mode instead."
    )


@dataclass(frozen=True)
class AuthCheck:
    """What auth.test said about SLACK_BOT_TOKEN; `unverified` says why Slack could not answer."""

    team: str = ""
    bot_user: str = ""
    # None when Slack did not report the granted scopes (no x-oauth-scopes header).
    granted: frozenset[str] | None = None
    unverified: str | None = None

    @property
    def missing_scopes(self) -> list[str]:
        """Scopes the bot calls methods with that the installed app was not granted."""
        if self.granted is None:
            return []
        return [scope for scope in BOT_SCOPES if scope not in self.granted]

    def summary(self) -> str:
        """One line for `config check`: who the token is, or why that is unknown."""
        if self.unverified is not None:
            return f"could not check SLACK_BOT_TOKEN: {self.unverified}; `serve` would start anyway"
        who = f"SLACK_BOT_TOKEN works: @{self.bot_user or '?'} in {self.team or '?'}"
        if self.granted is None:
            return f"{who}; Slack did not report the granted scopes"
        if not self.missing_scopes:
            return f"{who}; all {len(BOT_SCOPES)} scopes the bot uses are granted"
        return f"{who}; it lacks {len(self.missing_scopes)} of the {len(BOT_SCOPES)} scopes the bot uses"

    def warnings(self) -> list[str]:
        """What an operator should fix, one line each; empty when all is well."""
        if self.unverified is not None:
            return [
                f"could not check SLACK_BOT_TOKEN: {self.unverified}; starting anyway (commands are still "
                "acknowledged, and Slack work is retried once Slack answers)"
            ]
        return [
            f"the app lacks the {scope} scope (needed for {', '.join(SCOPE_REASONS[scope])}): "
            "reinstall it with the manifest from `incidentbot manifest`"
            for scope in self.missing_scopes
        ]


def _granted_scopes(headers: Mapping[str, Any]) -> frozenset[str] | None:
    """Parse Slack's x-oauth-scopes header (any case), or None when it is absent."""
    for key, value in headers.items():
        if key.lower() == SCOPES_HEADER:
            text = ",".join(value) if isinstance(value, list) else str(value)
            return frozenset(s.strip() for s in text.split(",") if s.strip())
    return None


def check_bot_token(settings: Settings, *, timeout: int = AUTH_TEST_TIMEOUT) -> AuthCheck:
    """Ask Slack (auth.test, at SLACK_API_URL) whether SLACK_BOT_TOKEN works and which scopes it has.

    Raises StartupError when Slack refuses the token for good. A Slack that cannot be reached or answers
    with another error is reported in the result instead: an outage must not stop the bot from starting.
    """
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token is not None else ""
    client = WebClient(
        token=token or None, base_url=settings.slack_api_url, timeout=timeout, logger=client_logger()
    )
    where = settings.slack_api_url
    try:
        response = client.auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "")
        if error in PERMANENT_TOKEN_ERRORS:
            raise StartupError(
                f"Slack ({where}) refused SLACK_BOT_TOKEN with {error}: {PERMANENT_TOKEN_ERRORS[error]}."
            ) from None
        status = exc.response.status_code
        return AuthCheck(unverified=f"Slack ({where}) answered auth.test with HTTP {status} {error}".rstrip())
    except (URLError, OSError, SlackClientError) as exc:
        return AuthCheck(unverified=f"Slack ({where}) could not be reached ({_reason(exc)})")
    return AuthCheck(
        team=str(response.get("team") or ""),
        bot_user=str(response.get("user") or ""),
        granted=_granted_scopes(response.headers),
    )


def _reason(exc: BaseException) -> str:
    """A short cause for a failed connection, with no request details (those could carry the token)."""
    if isinstance(exc, URLError) and exc.reason is not None:
        reason = exc.reason
        return str(reason.strerror or reason) if isinstance(reason, OSError) else str(reason)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


def log_auth_check(check: AuthCheck) -> None:
    """Log who the bot is at INFO and what needs an operator's attention at WARNING."""
    if check.unverified is None:
        log.info("Slack: %s", check.summary())
    for line in check.warnings():
        log.warning("%s", line)


def refuse_or_run(main: Callable[[], int]) -> int:
    """Run a process's main; a setup it cannot start with is said on stderr, with exit code 2."""
    try:
        return main()
    except StartupError as exc:
        print(f"incidentbot: cannot start: {exc}", file=sys.stderr)
        return 2
