"""Interaction payloads as Slack sends them, built once so a test can deliver the very same body again."""

from __future__ import annotations

import json
import time
from typing import Any

from bot.emulator import SlackEmulator


def _user(emu: SlackEmulator, user_id: str) -> dict[str, Any]:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": emu.team_id}


def block_action(
    emu: SlackEmulator, *, user: str, channel: str, message_ts: str, action_id: str, value: str
) -> dict[str, Any]:
    """A button click on a message (block_actions)."""
    return {
        "type": "block_actions",
        "user": _user(emu, user),
        "api_app_id": "A0EMULATOR",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
        "trigger_id": emu.new_trigger_id(user),
        "team": {"id": emu.team_id, "domain": "emulated"},
        "channel": {"id": channel, "name": "room"},
        "response_url": emu.new_response_url(channel, user, message_ts),
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b",
                "value": value,
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def view_submission(emu: SlackEmulator, view_id: str, values: dict[str, Any], *, user: str) -> dict[str, Any]:
    """A modal submission of a view the bot opened, with these state values."""
    stored = {k: v for k, v in emu.views[view_id].items() if k != "user_id"}
    stored["state"] = {"values": values}
    return {
        "type": "view_submission",
        "team": {"id": emu.team_id, "domain": "emulated"},
        "user": _user(emu, user),
        "api_app_id": "A0EMULATOR",
        "trigger_id": emu.new_trigger_id(user),
        "view": json.loads(json.dumps(stored)),
        "response_urls": [],
    }


def global_shortcut(emu: SlackEmulator, callback_id: str, *, user: str) -> dict[str, Any]:
    return {
        "type": "shortcut",
        "callback_id": callback_id,
        "trigger_id": emu.new_trigger_id(user),
        "user": {"id": user, "username": user.lower(), "team_id": emu.team_id},
        "team": {"id": emu.team_id, "domain": "emulated"},
        "action_ts": f"{time.time():.6f}",
    }


def message_shortcut(
    emu: SlackEmulator, callback_id: str, *, user: str, channel: str, ts: str, text: str
) -> dict[str, Any]:
    return {
        "type": "message_action",
        "callback_id": callback_id,
        "trigger_id": emu.new_trigger_id(user),
        "action_ts": f"{time.time():.6f}",
        "team": {"id": emu.team_id, "domain": "emulated"},
        "user": {"id": user, "name": user.lower()},
        "channel": {"id": channel, "name": "room"},
        "message_ts": ts,
        "message": {"type": "message", "user": "U3", "text": text, "ts": ts},
        "response_url": emu.new_response_url(channel, user, ts),
    }


def update_values(message: str, status: str = "identified") -> dict[str, Any]:
    from bot.slack.ids import ActionId, BlockId

    return {
        BlockId.STATUS: {ActionId.STATUS: {"type": "static_select", "selected_option": {"value": status}}},
        BlockId.MESSAGE: {ActionId.MESSAGE: {"type": "plain_text_input", "value": message}},
    }


def declare_values(title: str, severity: str = "sev2", description: str = "", private: bool = False) -> Any:
    from bot.slack.ids import ActionId, BlockId

    return {
        BlockId.TITLE: {ActionId.TITLE: {"type": "plain_text_input", "value": title}},
        BlockId.SEVERITY: {
            ActionId.SEVERITY: {"type": "static_select", "selected_option": {"value": severity}}
        },
        BlockId.DESCRIPTION: {ActionId.DESCRIPTION: {"type": "plain_text_input", "value": description}},
        BlockId.PRIVATE: {
            ActionId.PRIVATE: {
                "type": "checkboxes",
                "selected_options": [{"value": "private"}] if private else [],
            }
        },
    }
