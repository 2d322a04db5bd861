"""The generated Slack app manifest: schema-valid, minimal scopes, and wired to the bot's callback IDs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.slack.manifest import BOT_SCOPES, SCOPE_REASONS, CallbackId, build_manifest, manifest_yaml

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SCHEMA = SHARED / "slack" / "manifest.schema.json"
METHODS = SHARED / "slack" / "methods.json"

# The most the bot may ever ask for. Adding a scope here is a deliberate, reviewed decision.
ALLOWED_SCOPES = {
    "channels:manage",
    "groups:write",
    "channels:join",
    "channels:read",
    "groups:read",
    "channels:history",
    "groups:history",
    "chat:write",
    "pins:write",
    "users:read",
    "usergroups:read",
    "files:write",
    "reactions:read",
    "commands",
    "im:write",
    "im:history",
}


def _schema() -> dict[str, Any]:
    """Load Slack's manifest schema, skipping when the shared folder is not beside the repo."""
    if not SCHEMA.is_file():
        pytest.skip(f"Slack manifest schema not available at {SCHEMA}")
    schema: dict[str, Any] = json.loads(SCHEMA.read_text())
    return schema


@pytest.mark.parametrize("socket_mode", [False, True])
def test_manifest_matches_slack_schema(socket_mode: bool) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = _schema()
    validator = jsonschema.Draft7Validator(schema)
    errors = sorted(validator.iter_errors(build_manifest(socket_mode=socket_mode)), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_yaml_form_matches_schema_too() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = _schema()
    jsonschema.Draft7Validator(schema).validate(yaml.safe_load(manifest_yaml()))


def test_slash_command() -> None:
    manifest = build_manifest(request_url="https://bot.example.org/slack/events")
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/incident"
    assert command["should_escape"] is True
    assert command["url"] == "https://bot.example.org/slack/events"
    assert command["description"] and command["usage_hint"]


def test_shortcuts_use_callback_ids() -> None:
    shortcuts = {s["callback_id"]: s for s in build_manifest()["features"]["shortcuts"]}
    assert set(shortcuts) == {"add_to_timeline", "declare_incident", "make_action_item"}
    assert shortcuts[CallbackId.MAKE_ACTION_ITEM]["type"] == "message"
    assert shortcuts[CallbackId.ADD_TO_TIMELINE]["type"] == "message"
    assert shortcuts[CallbackId.ADD_TO_TIMELINE]["name"] == "Add to incident timeline"
    assert shortcuts[CallbackId.DECLARE_INCIDENT]["type"] == "global"
    assert shortcuts[CallbackId.DECLARE_INCIDENT]["name"] == "Declare incident"
    assert CallbackId.ADD_TO_TIMELINE == "add_to_timeline"
    assert CallbackId.DECLARE_INCIDENT.value == "declare_incident"


def test_scopes_are_minimal_and_unique() -> None:
    scopes = build_manifest()["oauth_config"]["scopes"]["bot"]
    assert len(scopes) == len(set(scopes))
    assert set(scopes) <= ALLOWED_SCOPES, set(scopes) - ALLOWED_SCOPES
    assert "commands" in scopes and "chat:write" in scopes and "reactions:read" in scopes
    assert list(BOT_SCOPES) == scopes


def test_scope_reasons_agree_with_slack_method_docs() -> None:
    if not METHODS.is_file():
        pytest.skip(f"Slack method list not available at {METHODS}")
    documented = {
        m["method"]: set(m.get("bot_scopes", [])) for m in json.loads(METHODS.read_text())["methods"]
    }
    checked = 0
    for scope, reasons in SCOPE_REASONS.items():
        assert reasons, scope
        for method in reasons:
            if method in documented:
                assert scope in documented[method], f"{method} does not accept {scope}"
                checked += 1
    assert checked >= 10


def test_settings_http_mode() -> None:
    settings = build_manifest(request_url="https://h.example/slack/events")["settings"]
    assert settings["event_subscriptions"] == {
        "request_url": "https://h.example/slack/events",
        "bot_events": ["reaction_added", "reaction_removed", "app_home_opened"],
    }
    assert settings["interactivity"] == {"is_enabled": True, "request_url": "https://h.example/slack/events"}
    assert settings["socket_mode_enabled"] is False
    assert settings["org_deploy_enabled"] is False
    assert settings["token_rotation_enabled"] is False


def test_socket_mode_has_no_urls() -> None:
    manifest = build_manifest(socket_mode=True)
    assert "url" not in manifest["features"]["slash_commands"][0]
    assert "request_url" not in manifest["settings"]["event_subscriptions"]
    assert "request_url" not in manifest["settings"]["interactivity"]
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "https://" not in manifest_yaml(socket_mode=True)


def test_yaml_is_human_ordered() -> None:
    text = manifest_yaml()
    assert list(yaml.safe_load(text)) == ["display_information", "features", "oauth_config", "settings"]
    assert text.index("display_information") < text.index("features") < text.index("settings")


def test_display_information() -> None:
    manifest = build_manifest()
    assert manifest["display_information"]["name"] == "incidentbot"
    assert manifest["features"]["bot_user"] == {"display_name": "incidentbot", "always_online": True}


def test_manifest_turns_on_the_messages_tab_so_direct_messages_are_allowed() -> None:
    # Without it Slack refuses every DM (briefings, pages, overdue nudges) with messages_tab_disabled.
    app_home = build_manifest()["features"]["app_home"]
    assert app_home["messages_tab_enabled"] is True
