"""Bounds on what one person can make the bot do, so a script cannot page or declare without end."""

from __future__ import annotations

from commands.errors import UsageError


def check_page_count(count: int, limit: int) -> None:
    """Raise UsageError, naming the limit, when one escalate would page more than `limit` people."""
    if count > limit:
        raise UsageError(
            f"That would page {count} people; one escalation may page at most {limit} "
            "(`max_paged_per_command`), so nothing was changed. Page fewer people or groups at a time."
        )
