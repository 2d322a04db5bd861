"""JSON over HTTPS for the tracker adapters: one call, its status mapped onto retry or refusal.

401, 403 (not a rate limit), 404, 410 and 400/422 are refusals no retry fixes; 429, a rate-limited 403,
5xx, timeouts and connection failures are retried, after the tracker's Retry-After when it sent one.
Neither the token nor a request or response body is ever logged or put in an error.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from commands.tracker import TrackerError, TrackerRefused

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
# GitHub's advice for a secondary rate limit without Retry-After: wait at least a minute.
DEFAULT_RATE_LIMIT_WAIT = 60.0


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: Mapping[str, str]


RefusalText = Callable[[int, Any], str]


class JsonClient:
    """Calls one tracker's API with fixed headers (its auth among them), never logging them."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        service: str,
        refusal: RefusalText,
        timeout: float = TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = dict(headers)
        self.service = service
        self._refusal = refusal
        self.timeout = timeout
        self._clock = clock

    def __repr__(self) -> str:  # the headers carry the token
        return f"JsonClient({self.service}, {self.base_url})"

    def call(self, method: str, path: str, body: Any = None, *, allow: tuple[int, ...] = ()) -> Answer:
        """One request; raise TrackerError (retry) or TrackerRefused (stop) unless it succeeded.

        A status in `allow` is answered instead (a 404 that means "no such file yet", a 409 to retry).
        """
        data = None if body is None else json.dumps(body).encode()
        headers = {**self._headers, "Accept": self._headers.get("Accept", "application/json")}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)
        what = f"{self.service} {method} {path.split('?')[0]}"
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (configured URL)
                raw = response.read()
                return Answer(response.status, _json(raw), dict(response.headers.items()))
        except urllib.error.HTTPError as exc:
            answer = Answer(exc.code, _json(exc.read()), dict(exc.headers.items()))
            if exc.code in allow:
                return answer
            raise self._failure(what, answer) from None
        except TimeoutError as exc:
            log.warning("%s timed out", what)
            raise TrackerError(f"{what} timed out") from exc
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            log.warning("%s failed: %s", what, type(exc).__name__)
            raise TrackerError(f"{what} could not connect") from exc

    def _failure(self, what: str, answer: Answer) -> Exception:
        status = answer.status
        wait = self._retry_after(answer)
        if status == 429 or status >= 500 or (status == 403 and wait is not None):
            log.warning("%s answered %s; will retry", what, status)
            return TrackerError(f"{what} answered {status}", retry_after=wait, status=status)
        log.warning("%s refused with %s", what, status)
        return TrackerRefused(self._refusal(status, answer.body))

    def _retry_after(self, answer: Answer) -> float | None:
        """Seconds the tracker asked us to wait: Retry-After, else a spent rate limit's reset time."""
        headers = {k.lower(): v for k, v in answer.headers.items()}
        after = headers.get("retry-after")
        if after is not None and after.strip().isdigit():
            return float(after.strip())
        if headers.get("x-ratelimit-remaining") == "0":
            reset = headers.get("x-ratelimit-reset", "")
            if reset.strip().isdigit():
                return max(float(reset) - self._clock(), 1.0)
            return DEFAULT_RATE_LIMIT_WAIT
        if answer.status == 403 and _says_rate_limit(answer.body):
            return DEFAULT_RATE_LIMIT_WAIT
        return None


def _says_rate_limit(body: Any) -> bool:
    """GitHub's secondary rate limit may come as a bare 403 whose message says so."""
    message = body.get("message", "") if isinstance(body, dict) else ""
    return "rate limit" in str(message).lower()


def _json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None
