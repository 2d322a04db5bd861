"""What people type, made storable: control characters PostgreSQL refuses (NUL) or Slack never shows."""

from __future__ import annotations

import re

# C0 controls and DEL, except tab and newline (modal text keeps its lines).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean(text: str) -> str:
    """Drop control characters so a stray NUL is not a database error dressed as "try again"."""
    return _CONTROL.sub("", text)
