"""One JSON POST to a pager service, its outcome sorted into answered, retry later (PagerError) or refused."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any

from commands.pager import PagerError

USER_AGENT = "incidentbot"
# Pager answers are a few hundred bytes; a body past this is not one, and only its status matters then.
MAX_ANSWER_BYTES = 64 * 1024


class PagerRateLimited(PagerError):
    """The pager answered 429: retry, no sooner than `retry_after` seconds when it said so."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message, retry_after=retry_after)


@dataclass(frozen=True)
class Answer:
    """What the pager answered: status, headers and the JSON body (empty when it was not JSON)."""

    status: int
    headers: Message
    body: dict[str, Any]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect means a wrong base URL: following it would resend the key elsewhere or drop the body."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        del args, kwargs


_OPENER = urllib.request.build_opener(_NoRedirects)


def post_json(url: str, payload: Mapping[str, Any], headers: Mapping[str, str], timeout: float) -> Answer:
    """POST `payload` as JSON and return any HTTP answer; raise PagerError when none came back in time.

    Raises PagerError on timeouts and connection failures: the request may or may not have landed, and
    every verb is idempotent per dedup key, so the job step retries it.
    """
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return Answer(response.status, response.headers, _json(response.read(MAX_ANSWER_BYTES)))
    except urllib.error.HTTPError as exc:
        with exc:
            return Answer(exc.code, exc.headers, _json(exc.read(MAX_ANSWER_BYTES)))
    except TimeoutError as exc:
        raise PagerError(f"no answer within {timeout:g} s") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):  # a connect timeout arrives wrapped
            raise PagerError(f"no answer within {timeout:g} s") from exc
        raise PagerError(f"could not reach the pager ({type(exc.reason).__name__})") from exc
    except OSError as exc:
        # The reason names the host or the socket error, never the key or the payload.
        raise PagerError(f"could not reach the pager ({type(exc).__name__})") from exc


def retry_after(headers: Message) -> float | None:
    """Seconds a 429 asks us to wait, when it says (a number of seconds; an HTTP date is ignored)."""
    raw = (headers.get("Retry-After") or "").strip()
    try:
        seconds = float(raw)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _json(raw: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}
