"""Cursor pagination as Slack does it: `limit` with a default page, opaque cursors, fewer items than asked.

Slack (https://docs.slack.dev/apis/web-api/pagination): list methods return at most `limit` items and a
`response_metadata.next_cursor` ("" on the last page); "it's possible to receive fewer results than your
specified limit, even when there are additional results to retrieve", so a client must follow the
cursor rather than trust a large limit. Cursors are opaque and only valid for the listing they came from.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .errors import SlackError

T = TypeVar("T")

DEFAULT_LIMIT = 100  # Slack's documented default for conversations.list/members/history
MAX_LIMIT = 1000  # Slack's documented maximum for list methods
MAX_HISTORY_LIMIT = 999  # conversations.history's documented maximum
# What one page carries at most however large the limit: Slack recommends 200 and may return fewer.
DEFAULT_PAGE_CAP = 200


@dataclass
class Pager:
    """Page sizes for one emulator; tests may lower `page_cap` to exercise cursors with few items."""

    page_cap: int = DEFAULT_PAGE_CAP

    def page(
        self, items: list[T], args: dict[str, Any], listing: str, *, max_limit: int = MAX_LIMIT
    ) -> Page[T]:
        """Slice `items` for this call; `listing` binds the cursor to one method and target."""
        limit = _limit(args, max_limit)
        start = _decode(str(args.get("cursor") or ""), listing)
        size = min(limit, self.page_cap)
        chunk = items[start : start + size]
        more = start + size < len(items)
        return Page(chunk, _encode(listing, start + size) if more else "")


@dataclass
class Page(Generic[T]):
    """One page of a listing and the cursor of the next ("" when this is the last)."""

    items: list[T]
    next_cursor: str

    def metadata(self) -> dict[str, Any]:
        """The `response_metadata` object every paginated answer carries."""
        return {"next_cursor": self.next_cursor}


def _limit(args: dict[str, Any], max_limit: int) -> int:
    """Slack's `limit`: absent or 0 means the default; above the maximum it is capped."""
    raw = args.get("limit")
    if raw in (None, ""):
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except (TypeError, ValueError):
        raise SlackError("invalid_limit") from None
    if limit < 0:
        raise SlackError("invalid_limit")
    return min(limit or DEFAULT_LIMIT, max_limit)


def _encode(listing: str, offset: int) -> str:
    """An opaque cursor (base64, like Slack's `dXNlcjpVMDYxTkZUVDI=`)."""
    return base64.b64encode(f"{listing}|{offset}".encode()).decode()


def _decode(cursor: str, listing: str) -> int:
    """The offset a cursor stands for; invalid_cursor when it was not issued for this listing."""
    if not cursor:
        return 0
    try:
        where, _, offset = base64.b64decode(cursor, validate=True).decode().rpartition("|")
    except (binascii.Error, UnicodeDecodeError):
        raise SlackError("invalid_cursor") from None
    if where != listing or not offset.isdigit():
        raise SlackError("invalid_cursor")
    return int(offset)
