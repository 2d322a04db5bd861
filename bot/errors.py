"""The one place where failures after the ack become sentences for the person who asked."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from commands.errors import IncidentError

log = logging.getLogger(__name__)

TRY_AGAIN = (
    ":warning: The incident database is not answering right now, so nothing was changed. "
    "Please try again in a minute."
)
INTERNAL = ":warning: Something went wrong on my side and nothing was changed. Please try again."

Reply = Callable[[str], None]


@contextmanager
def reporting(reply: Reply, action: str) -> Iterator[None]:
    """Tell the user what went wrong; domain errors verbatim, infrastructure errors as 'try again'."""
    try:
        yield
    except IncidentError as exc:
        reply(exc.message)
    except (OperationalError, PoolTimeout, DBAPIError) as exc:
        log.warning("%s: database unavailable (%s)", action, type(exc).__name__)
        reply(TRY_AGAIN)
    except Exception:
        log.exception("%s failed", action)
        reply(INTERNAL)
