"""Keep every log record on one line and request bodies out of the log: both are attacker-controlled."""

from __future__ import annotations

import logging
import re

# Line breaks (including Unicode's), other C0/C1 controls and DEL; a tab is harmless and stays.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r"}
_BOLT_VERIFICATION = "slack_bolt.RequestVerification"
_INVALID_SIGNATURE = "Invalid request signature detected"


def escape_controls(text: str) -> str:
    """Show control characters as escapes, so text from a request cannot start a log line of its own."""
    return _CONTROL.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


class OneLineFormatter(logging.Formatter):
    """Format the message with its control characters escaped; tracebacks keep their own lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        safe = logging.makeLogRecord(record.__dict__)
        safe.message = escape_controls(record.message)
        return super().formatMessage(safe)


class _WithoutRequestBody(logging.Filter):
    """Cut the body (and the rest) out of Bolt's "Invalid request signature detected (… body: …)" line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith(_INVALID_SIGNATURE):
            record.msg, record.args = _INVALID_SIGNATURE, None
        return True


def keep_request_bodies_out_of_bolt_logs() -> None:
    """Filter Bolt's own signature check, which logs a refused request's whole body at INFO."""
    logger = logging.getLogger(_BOLT_VERIFICATION)
    if not any(isinstance(f, _WithoutRequestBody) for f in logger.filters):
        logger.addFilter(_WithoutRequestBody())
