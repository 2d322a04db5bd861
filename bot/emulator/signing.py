"""Slack request signing (v0 scheme) so the emulator's deliveries pass the bot's real verifier."""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_VERSION = "v0"
SIGNATURE_HEADER = "X-Slack-Signature"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"


def compute_signature(secret: str, body: bytes, timestamp: int) -> str:
    """Return the ``v0=<hex>`` HMAC Slack puts in X-Slack-Signature, so bots can check authenticity."""
    base = f"{SIGNATURE_VERSION}:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def sign_request(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Build the two signing headers Slack sends, letting tests forge (or deliberately break) requests."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return {SIGNATURE_HEADER: compute_signature(secret, body, ts), TIMESTAMP_HEADER: str(ts)}


def verify_signature(secret: str, body: bytes, headers: dict[str, str], max_age: int = 300) -> bool:
    """Check a signed request the same way Slack's SDKs do, so emulator tests need no bot framework."""
    lowered = {k.lower(): v for k, v in headers.items()}
    ts_raw = lowered.get(TIMESTAMP_HEADER.lower())
    sig = lowered.get(SIGNATURE_HEADER.lower())
    if not ts_raw or not sig or not ts_raw.isdigit():
        return False
    if abs(time.time() - int(ts_raw)) > max_age:
        return False
    return hmac.compare_digest(compute_signature(secret, body, int(ts_raw)), sig)
