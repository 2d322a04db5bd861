"""Message metadata rules (https://docs.slack.dev/messaging/message-metadata).

Metadata is `{"event_type": str, "event_payload": object}`. Slack's SDK types
(`MessageMetadata` in @slack/types) allow payload values that are strings, numbers, booleans, flat
objects of those, and arrays; there is no null. chat.postMessage/chat.update answer
`invalid_metadata_format` for something that is not such an object and `invalid_metadata_schema` for
a value Slack refuses, `metadata_too_large` when it is too big.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .state import SlackError

# event_type: "a human readable alphanumeric string"; snake_case is Slack's design guideline.
EVENT_TYPE_RE = re.compile(r"^[A-Za-z0-9_]{1,255}$")
# Slack lists metadata_too_large but documents no figure we could find; 4 KB of JSON is a deliberately
# low bound (a message's metadata is meant for ids and small facts, not documents).
MAX_METADATA_BYTES = 4096
SCALARS = (str, int, float, bool)


def validate_metadata(metadata: Any) -> dict[str, Any]:
    """Return the metadata Slack would store, or raise the error Slack answers with."""
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            raise SlackError("invalid_metadata_format") from None
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        raise SlackError("invalid_metadata_format")
    event_type, payload = metadata["event_type"], metadata["event_payload"]
    if not EVENT_TYPE_RE.match(event_type):
        raise _schema("/event_type", "must be 1-255 letters, digits or underscores")
    for key, value in payload.items():
        _check_value(value, f"/event_payload/{key}")
    if len(json.dumps(metadata, separators=(",", ":")).encode()) > MAX_METADATA_BYTES:
        raise SlackError("metadata_too_large")
    return {"event_type": event_type, "event_payload": payload}


def _check_value(value: Any, pointer: str) -> None:
    """A scalar, a flat object of scalars, or an array of scalars or flat objects."""
    if isinstance(value, SCALARS):
        return
    if isinstance(value, dict):
        _check_flat(value, pointer)
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict):
                _check_flat(item, f"{pointer}/{i}")
            elif not isinstance(item, SCALARS):
                raise _schema(f"{pointer}/{i}", f"{_name(item)} is not allowed here")
        return
    raise _schema(pointer, f"{_name(value)} is not allowed here")


def _check_flat(obj: dict[str, Any], pointer: str) -> None:
    """An object inside the payload holds scalars only."""
    for key, item in obj.items():
        if not isinstance(item, SCALARS):
            raise _schema(f"{pointer}/{key}", f"{_name(item)} is not allowed here")


def _name(value: Any) -> str:
    """JSON's name for a Python value, for error messages."""
    return "null" if value is None else {"list": "array", "dict": "object"}.get(type(value).__name__, "value")


def _schema(pointer: str, reason: str) -> SlackError:
    """invalid_metadata_schema with a message naming the offending field."""
    return SlackError("invalid_metadata_schema", [f"[ERROR] {reason} [json-pointer:/metadata{pointer}]"])
