"""Admit a request to Bolt only once it is small, signed and well formed: the checks cheapest first."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request import BoltRequest

if TYPE_CHECKING:
    from wsgiref.types import WSGIEnvironment

log = logging.getLogger(__name__)

# Slack's largest payload, a message shortcut on a 40,000-character message with its blocks, percent-encoded,
# is under 1 MiB; waitress's own default would take 1 GiB.
MAX_BODY_BYTES = 1024 * 1024
MAX_AGE_SECONDS = 300  # Slack's replay window: older signed requests are refused
SSL_CHECK_MAX_BYTES = 1024  # `ssl_check=1&token=…`: the one request Slack sends unsigned
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


@dataclass(frozen=True)
class Answer:
    """A response given without Bolt; its body is fixed text that never echoes the request."""

    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Signed:
    """A request whose signature checked out: its body as text, and its content type."""

    body: str
    content_type: str | None


TOO_LARGE = Answer(413, "Request body too large")
MALFORMED = Answer(400, "Malformed request")
UNSIGNED = Answer(401, '{"error": "invalid request"}', "application/json")  # what Bolt itself answers
SSL_CHECK_OK = Answer(200, "")


class RefusalLog:
    """Log refused requests at most once a minute per reason, with a count: attackers cannot fill the disk."""

    def __init__(self, every: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._next = 0.0

    def refused(self, reason: str) -> None:
        with self._lock:
            self._counts[reason] += 1
            now = self.clock()
            if now < self._next:
                return
            due, self._counts = self._counts, Counter()
            self._next = now + self.every
        for why, count in sorted(due.items()):
            log.info("refused %d request(s): %s", count, why)


class RequestGate:
    """Turn a WSGI request into a BoltRequest, or into the Answer that refuses it before Bolt reads it."""

    def __init__(
        self,
        signing_secret: str,
        *,
        max_body: int = MAX_BODY_BYTES,
        clock: Callable[[], float] = time.time,
        refusals: RefusalLog | None = None,
    ) -> None:
        self._secret = signing_secret.encode("utf-8")
        self.max_body = max_body
        self.clock = clock
        self.refusals = refusals or RefusalLog()

    def admit(self, environ: WSGIEnvironment) -> BoltRequest | Answer:
        signed = self.verify(environ)
        return signed if isinstance(signed, Answer) else self.to_bolt(signed, environ)

    def verify(self, environ: WSGIEnvironment) -> Signed | Answer:
        """Read the body of a small, well-formed request and check Slack's signature over it."""
        length = _content_length(environ)
        if length is None:
            return self._refuse(MALFORMED, "Content-Length is not a number")
        if length > self.max_body:
            return self._refuse(TOO_LARGE, f"body over {self.max_body} bytes")
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        if timestamp is not None and not _TIMESTAMP.fullmatch(timestamp):
            return self._refuse(MALFORMED, "X-Slack-Request-Timestamp is not a number")
        body: bytes = environ["wsgi.input"].read(length) if length else b""
        if _is_ssl_check(body, environ):
            return SSL_CHECK_OK
        if not self._signed(body, timestamp, environ.get("HTTP_X_SLACK_SIGNATURE")):
            return self._refuse(UNSIGNED, "missing, stale or wrong Slack signature")
        try:
            text = body.decode("utf-8")
        except ValueError:
            return self._refuse(MALFORMED, "signed body is not a Slack payload")
        return Signed(text, environ.get("CONTENT_TYPE"))

    def to_bolt(self, signed: Signed, environ: WSGIEnvironment) -> BoltRequest | Answer:
        """The BoltRequest of a verified request, or MALFORMED when Bolt could not read it."""
        try:
            headers = WsgiHttpRequest(environ).get_headers()
            return BoltRequest(body=signed.body, query=environ.get("QUERY_STRING", ""), headers=headers)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError):
            # Bad JSON, or JSON that is not an object: Bolt would raise, and answer 500.
            return self._refuse(MALFORMED, "signed body is not a Slack payload")

    def _signed(self, body: bytes, timestamp: str | None, signature: str | None) -> bool:
        """Slack's v0 signature over the raw bytes, within the replay window."""
        if not timestamp or not signature or abs(self.clock() - int(timestamp)) > MAX_AGE_SECONDS:
            return False
        base = b"v0:" + timestamp.encode("ascii") + b":" + body
        expected = b"v0=" + hmac.new(self._secret, base, hashlib.sha256).hexdigest().encode("ascii")
        # WSGI header values are latin-1 strings, so any value encodes.
        return hmac.compare_digest(expected, signature.encode("latin-1"))

    def _refuse(self, answer: Answer, reason: str) -> Answer:
        self.refusals.refused(reason)
        return answer


def _content_length(environ: WSGIEnvironment) -> int | None:
    raw = environ.get("CONTENT_LENGTH") or "0"
    return int(raw) if raw.isascii() and raw.isdigit() else None


def _is_ssl_check(body: bytes, environ: WSGIEnvironment) -> bool:
    """Slack's unsigned certificate check (a short form body with ssl_check=1), answered like Bolt does."""
    # Most bodies never mention it: spare them a parse (a declare is short enough to be parsed here).
    if b"ssl_check" not in body or len(body) > SSL_CHECK_MAX_BYTES:
        return False
    if not str(environ.get("CONTENT_TYPE", "")).startswith("application/x-www-form-urlencoded"):
        return False
    fields = parse_qs(body.decode("latin-1"))
    return fields.get("ssl_check") == ["1"] and "payload" not in fields
