"""Slack identifiers the bot owns (view callbacks, blocks, actions), named once."""

from __future__ import annotations

from enum import StrEnum


class ViewId(StrEnum):
    DECLARE = "declare_incident_modal"


class BlockId(StrEnum):
    TITLE = "title"
    SEVERITY = "severity"
    DESCRIPTION = "description"
    PRIVATE = "private"


class ActionId(StrEnum):
    TITLE = "title_input"
    SEVERITY = "severity_select"
    DESCRIPTION = "description_input"
    PRIVATE = "private_checkbox"
