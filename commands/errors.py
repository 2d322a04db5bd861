"""Errors of the domain and its ports: an IncidentError carries the sentence for the person who asked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class IncidentError(Exception):
    """Base of every error a user is told about."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(IncidentError):
    """The command text could not be understood; the message names the problem and the right usage."""


class NotInWarRoom(IncidentError):
    """A room-scoped command was sent from a channel that is not an incident's war room."""


class AlreadyResolved(IncidentError):
    """The incident is already resolved."""


class TryAgain(IncidentError):
    """Something the command needs is not there yet (the room, the admin group); nothing was changed."""


class RepeatedDelivery(Exception):
    """Slack delivered this form before and it was recorded then; nothing to do or say."""


class NameTaken(Exception):
    """Slack refused a channel name because it is in use."""


class ChatError(Exception):
    """A Slack call failed: which method, Slack's error code, and whether trying again later can help."""

    retryable = True

    def __init__(
        self, method: str, code: str, *, needed: str | None = None, body: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(f"{method}: {code}")
        self.method = method
        self.code = code
        self.needed = needed  # the scope Slack named, for missing_scope
        self.body: Mapping[str, Any] = body or {}  # Slack's whole answer (e.g. an invite's per-user errors)
        self.retry_after: int | None = None  # seconds Slack asked us to wait (a 429), if it said


class ChatUnavailable(ChatError):
    """Slack failed in a way worth retrying later (5xx, timeouts, rate limits after retries)."""


class ChatRefused(ChatError):
    """Slack refused the call for a reason no retry fixes (scopes, tokens, settings): someone must act."""

    retryable = False

    @property
    def advice(self) -> str:
        """What is wrong and how to fix it, for the person who asked (no user text)."""
        return refusal_advice(self.method, self.code, self.needed)


class ChannelNotFound(ChatRefused):
    """Slack does not know the channel (or the bot cannot see it, or it is archived)."""


_REINSTALL = "reinstall it with the manifest from `incidentbot manifest`"
_TOKEN_CODES = frozenset({"not_authed", "invalid_auth", "token_revoked", "token_expired", "account_inactive"})


def refusal_advice(method: str, code: str, needed: str | None = None) -> str:
    """The sentence that says why Slack refused `method` and what an admin can do about it."""
    if code == "missing_scope":
        scope = f"the `{needed}` scope" if needed else f"a scope `{method}` needs"
        return f"the app lacks {scope}: {_REINSTALL}"
    if code in _TOKEN_CODES:
        return (
            f"Slack no longer accepts the bot's token (`{code}`): reinstall the app and update "
            "SLACK_BOT_TOKEN"
        )
    if code == "messages_tab_disabled":
        return (
            "the app's Messages tab is turned off, so I cannot send direct messages: turn it on under "
            f"App Home in the app's settings, or {_REINSTALL}"
        )
    if code in ("restricted_action", "no_permission", "ekm_access_denied"):
        return f"the workspace's settings do not let the app do this (`{method}`): ask a Slack admin"
    if code == "plan_upgrade_required":
        return f"this workspace's Slack plan does not allow `{method}`"
    if code in ("channel_not_found", "is_archived"):
        return "the channel no longer exists, is archived, or I am not in it"
    return f"Slack refused `{method}` with `{code}`"


class PermissionDenied(IncidentError):
    """The person may not do this to this incident; the message says who may."""


class UnknownTarget(IncidentError):
    """A person or user group named in a command does not exist in the workspace."""
