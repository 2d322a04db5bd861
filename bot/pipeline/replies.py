"""The one place where failures after the ack become sentences for the person who asked."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from commands.errors import ChannelNotFound, ChatError, ChatRefused, IncidentError

log = logging.getLogger(__name__)

TRY_AGAIN = (
    ":warning: The incident database is not answering right now, so nothing was changed. "
    "Please try again in a minute."
)
SLACK_DOWN = (
    ":warning: Slack is not answering me right now, so nothing was changed. Please try again in a minute."
)
GONE = ":warning: Slack says that channel no longer exists or is archived, so nothing was changed."
INTERNAL = ":warning: Something went wrong on my side and nothing was changed. Please try again."

Reply = Callable[[str], None]


def ephemeral_reply(respond: Callable[..., object]) -> Reply:
    """Answer only the person who asked, through the request's response_url, leaving their message be."""

    def reply(text: str) -> None:
        respond(text=text, response_type="ephemeral", replace_original=False)

    return reply


# What a database that is down or overloaded raises through SQLAlchemy.
DATABASE_ERRORS = (OperationalError, PoolTimeout, DBAPIError)


@contextmanager
def reporting(reply: Reply, action: str) -> Iterator[None]:
    """Tell the user what went wrong; domain errors verbatim, infrastructure errors as 'try again'."""
    try:
        yield
    except Exception as exc:
        reply(failure_message(exc, action))


def failure_message(exc: Exception, action: str) -> str:
    """The sentence for the person who asked, logged by kind only (never the payload or user text)."""
    if isinstance(exc, IncidentError):
        return exc.message
    # Slack errors are logged where they happen, one line each (method, code, incident).
    if isinstance(exc, ChannelNotFound):
        return GONE
    if isinstance(exc, ChatRefused):
        return f":warning: I could not do that, so nothing was changed: {exc.advice}."
    if isinstance(exc, ChatError):
        # Raised only by look-ups that run before anything is recorded (users, groups, forms).
        return SLACK_DOWN
    if isinstance(exc, DATABASE_ERRORS):
        log.warning("%s: database unavailable (%s)", action, type(exc).__name__)
        return TRY_AGAIN
    log.error("%s failed", action, exc_info=exc)
    return INTERNAL
