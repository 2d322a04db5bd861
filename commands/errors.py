"""Domain errors: each carries the sentence the person who typed the command will read."""

from __future__ import annotations


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
    """A dependency (usually the database) is unavailable; nothing was changed."""


class RepeatedDelivery(Exception):
    """Slack delivered this form before and it was recorded then; nothing to do or say."""


class NameTaken(Exception):
    """Slack refused a channel name because it is in use."""


class ChannelNotFound(Exception):
    """Slack does not know the channel (or the bot cannot see it)."""


class ChatUnavailable(Exception):
    """Slack failed in a way worth retrying later (5xx, timeouts, rate limits after retries)."""


class PermissionDenied(IncidentError):
    """The person may not do this to this incident; the message says who may."""


class UnknownTarget(IncidentError):
    """A person or user group named in a command does not exist in the workspace."""
