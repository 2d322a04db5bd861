"""The Slack app manifest, generated from code so scopes, callback IDs and handlers cannot drift apart."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import yaml

__all__ = [
    "APP_NAME",
    "BOT_EVENTS",
    "BOT_SCOPES",
    "SCOPE_REASONS",
    "SLASH_COMMAND",
    "CallbackId",
    "build_manifest",
    "manifest_yaml",
]

APP_NAME = "incidentbot"
APP_DESCRIPTION = "Runs incident war rooms: declare, coordinate, remind, and draft the postmortem."
SLASH_COMMAND = "/incident"
DEFAULT_REQUEST_URL = "https://example.com/slack/events"


class CallbackId(StrEnum):
    """Shortcut callback IDs shared by the manifest and the handlers that answer them."""

    ADD_TO_TIMELINE = "add_to_timeline"
    DECLARE_INCIDENT = "declare_incident"
    MAKE_ACTION_ITEM = "make_action_item"


# Each bot scope and what needs it. Derived from Slack's per-method scope lists (a copy lives in the
# project's shared/slack/methods.json during development); names that are not Web API methods are
# marked "event:" or "feature:". Keep this minimal: a scope not listed here is not requested.
SCOPE_REASONS: dict[str, tuple[str, ...]] = {
    "channels:manage": (
        "conversations.create",
        "conversations.invite",
        "conversations.setTopic",
        "conversations.rename",
        "conversations.archive",
    ),
    "groups:write": (
        "conversations.create",
        "conversations.invite",
        "conversations.setTopic",
        "conversations.rename",
        "conversations.archive",
    ),
    "channels:join": ("conversations.join",),
    "channels:read": ("conversations.info", "conversations.members"),
    "groups:read": ("conversations.info", "conversations.members"),
    "channels:history": ("conversations.history",),
    "groups:history": ("conversations.history",),
    "chat:write": ("chat.postMessage", "chat.update", "chat.postEphemeral"),
    "pins:write": ("pins.add",),
    "users:read": ("users.info",),
    "usergroups:read": ("usergroups.users.list",),
    "files:write": ("files.getUploadURLExternal", "files.completeUploadExternal"),
    "reactions:read": ("event:reaction_added", "event:reaction_removed"),
    "commands": ("feature:slash_commands", "feature:shortcuts"),
    "im:write": ("conversations.open",),
    # Reads only the bot's own DMs, to find one that timed out but landed before sending it again.
    "im:history": ("conversations.history",),
}

BOT_SCOPES: tuple[str, ...] = tuple(SCOPE_REASONS)
# app_home_opened needs no scope of its own (docs.slack.dev/reference/events/app_home_opened).
BOT_EVENTS: tuple[str, ...] = ("reaction_added", "reaction_removed", "app_home_opened")


def build_manifest(request_url: str = DEFAULT_REQUEST_URL, socket_mode: bool = False) -> dict[str, Any]:
    """Build the manifest dict; in Socket Mode Slack rejects request URLs, so they are left out."""
    slash: dict[str, Any] = {"command": SLASH_COMMAND}
    if not socket_mode:
        slash["url"] = request_url
    slash.update(
        {
            "description": "Declare and run incidents",
            "usage_hint": "declare <title>  (or: help)",
            "should_escape": True,
        }
    )
    events: dict[str, Any] = {}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if not socket_mode:
        events["request_url"] = request_url
        interactivity["request_url"] = request_url
    events["bot_events"] = list(BOT_EVENTS)
    return {
        "display_information": {"name": APP_NAME, "description": APP_DESCRIPTION},
        "features": {
            # DMs (briefings, pages, overdue nudges) fail with messages_tab_disabled without the
            # Messages tab; read-only is enough, since the bot never reads what people write there.
            "app_home": {
                # The Home tab: open incidents, your roles and action items, the last 30 days' figures.
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": APP_NAME, "always_online": True},
            "slash_commands": [slash],
            "shortcuts": [
                {
                    "name": "Add to incident timeline",
                    "type": "message",
                    "callback_id": CallbackId.ADD_TO_TIMELINE.value,
                    "description": "Copy this message into the incident's timeline",
                },
                {
                    "name": "Make action item",
                    "type": "message",
                    "callback_id": CallbackId.MAKE_ACTION_ITEM.value,
                    "description": "Turn this message into an incident action item",
                },
                {
                    "name": "Declare incident",
                    "type": "global",
                    "callback_id": CallbackId.DECLARE_INCIDENT.value,
                    "description": "Open a war room for a new incident",
                },
            ],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


def manifest_yaml(request_url: str = DEFAULT_REQUEST_URL, socket_mode: bool = False) -> str:
    """Render the manifest as YAML in the order Slack's own editor shows it, for pasting into app config."""
    return yaml.safe_dump(
        build_manifest(request_url=request_url, socket_mode=socket_mode),
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=110,
    )
