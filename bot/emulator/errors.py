"""The error every emulated Web API method raises to answer `{"ok": false, "error": ...}`."""

from __future__ import annotations

from typing import Any


class SlackError(Exception):
    """A Slack API error (`{"ok": false, "error": ...}`) raised by a method handler to abort it cleanly.

    `extra` holds the fields some errors carry beside `error` (missing_scope's `needed`/`provided`,
    conversations.invite's per-user `errors`).
    """

    def __init__(
        self, error: str, messages: list[str] | None = None, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []
        self.extra = extra or {}
