"""The statuses and roles the code itself acts on; every other one is a string the operator configured."""

from __future__ import annotations

from enum import StrEnum


class IncidentStatus(StrEnum):
    """The two statuses every configured list must have: where an incident starts and where it ends."""

    INVESTIGATING = "investigating"
    RESOLVED = "resolved"


class PostmortemStatus(StrEnum):
    """Where a postmortem stands (`/incident postmortem status ...`); None in the row means a draft."""

    DRAFT = "draft"
    IN_REVIEW = "in-review"
    PUBLISHED = "published"


class Role(StrEnum):
    """The one role with rules of its own (reminders ask for it, permissions name it)."""

    COMMANDER = "commander"
