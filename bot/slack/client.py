"""The process's one Slack Web API client: keep-alive, bounded in-place retries, one log line per error."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.slack.keepalive import KeepAliveWebClient


def timed_out(error: Exception | None) -> bool:
    """A read timeout, bare or wrapped in URLError by the transport."""
    reason = error.reason if isinstance(error, URLError) else error
    return isinstance(reason, TimeoutError) or "timed out" in str(reason)


class ConnectionFailureRetryHandler(ConnectionErrorRetryHandler):
    """Retry refused or dropped connections, never timeouts: a timed-out post may have landed.

    Resending it here would post twice; the job's own retry looks the post up by metadata first.
    """

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if timed_out(error):
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)


class _ReportedByUs(logging.Filter):
    """Drop slack_sdk's own ERROR for a failed request: we log each Slack error once, with its meaning."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to send a request to Slack API server")


def client_logger() -> logging.Logger:
    """The logger our Web API clients hand slack_sdk, without its duplicate failure lines."""
    logger = logging.getLogger(f"{__name__}.web")
    if not any(isinstance(f, _ReportedByUs) for f in logger.filters):
        logger.addFilter(_ReportedByUs())
    return logger


# The longest Retry-After the client sleeps through itself. A longer wait (Tier 2 methods under a burst
# answer up to a minute) would hold a worker thread asleep: the call fails instead, and the job's durable
# retry is scheduled for when Slack said to come back.
MAX_INLINE_RETRY_AFTER = 2


def retry_after(headers: Mapping[str, Any] | None) -> int | None:
    """Slack's Retry-After header in whole seconds, if it sent one."""
    for key, value in (headers or {}).items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) else value
            try:
                return max(int(str(raw).strip()), 0)
            except ValueError:
                return None
    return None


class ShortRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """Retry a 429 in place only when Slack asks for a short wait; longer waits go back to the job."""

    def _can_retry(
        self,
        *,
        state: RetryState,  # noqa: ARG002 - slack_sdk's RetryHandler passes every hook argument by keyword
        request: HttpRequest,  # noqa: ARG002 - same
        response: HttpResponse | None = None,
        error: Exception | None = None,  # noqa: ARG002 - same
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = retry_after(response.headers)
        return wait is None or wait <= MAX_INLINE_RETRY_AFTER


def make_web_client(token: str, base_url: str, *, timeout: int = 10) -> WebClient:
    """The process's one Web API client: retries connection errors, 5xx and 429 (honouring Retry-After)."""
    return KeepAliveWebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        logger=client_logger(),
        retry_handlers=[
            ConnectionFailureRetryHandler(max_retry_count=2),
            ShortRateLimitRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )
