"""Block Kit validation with Slack's limits, so bad blocks fail in tests the way they fail in production.

Limits from https://docs.slack.dev/reference/block-kit (blocks, elements, composition objects, views):
50 blocks in a message and 100 in a modal or Home tab; section text 3,000 characters and fields 2,000;
header 150; button text 75; action_id and block_id 255 (block_id unique in its message or view); modal
title, submit and close 24 (submit required with input blocks); private_metadata 3,000; callback_id 255.
Message `text`: 40,000 characters.
slack_sdk's model classes check the rest (element counts, option and placeholder lengths).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from .metadata import validate_metadata
from .state import APP_ID, BOT_ID, EmulatorState, SlackError

MAX_MESSAGE_BLOCKS = 50
MAX_TEXT = 40000
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_CHOICES = 10  # options of a checkboxes or radio_buttons element
MAX_MENU_OPTIONS = 100  # options (or option groups, or options in a group) of a static select menu
MAX_OPTION_TEXT = 75  # an option's text and description, an option group's label
MAX_OPTION_VALUE = 150
MAX_PLACEHOLDER = 150
STATIC_MENUS = frozenset({"static_select", "multi_static_select"})
MAX_ACTION_ID = 255
MAX_BLOCK_ID = 255
MAX_VIEW_TITLE = 24
MAX_VIEW_BUTTON_TEXT = 24
MAX_PRIVATE_METADATA = 3000
MAX_CALLBACK_ID = 255

# Checked before Block.parse because the SDK logs (and skips) unknown blocks, body included.
KNOWN_BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "video",
        "call",
        "table",
    }
)
# Likewise for elements: the SDK logs unknown ones verbatim, so unknown types are rejected first.
KNOWN_ELEMENT_TYPES = frozenset(
    {
        "button", "checkboxes", "datepicker", "datetimepicker", "email_text_input", "file_input", "image",
        "multi_static_select", "multi_external_select", "multi_users_select", "multi_conversations_select",
        "multi_channels_select", "number_input", "overflow", "plain_text_input", "radio_buttons",
        "rich_text_input", "static_select", "external_select", "users_select", "conversations_select",
        "channels_select", "timepicker", "url_text_input", "workflow_button", "plain_text", "mrkdwn",
    }
)  # fmt: skip
TEXT_OBJECT_TYPES = frozenset({"plain_text", "mrkdwn"})
VIEW_TYPES = frozenset({"modal", "home"})


def _error(pointer: str, reason: str) -> SlackError:
    """Build an invalid_blocks error whose message names the offending JSON pointer, as Slack does."""
    return SlackError("invalid_blocks", [f"[ERROR] {reason} [json-pointer:{pointer}]"])


def _check_text_object(obj: Any, pointer: str, limit: int | None, plain_only: bool = False) -> None:
    """Enforce that a text field is a proper text object within its length limit."""
    if not isinstance(obj, dict) or obj.get("type") not in TEXT_OBJECT_TYPES or "text" not in obj:
        raise _error(pointer, "must be a text object with a type of plain_text or mrkdwn")
    if plain_only and obj["type"] != "plain_text":
        raise _error(pointer + "/type", "must be plain_text")
    if not isinstance(obj["text"], str):
        raise _error(pointer + "/text", "must be a string")
    if limit is not None and len(obj["text"]) > limit:
        raise _error(pointer + "/text", f"must be less than {limit + 1} characters")


def _walk_elements(node: Any, pointer: str) -> None:
    """Recursively check interactive-element limits the SDK's validators do not cover."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            _walk_elements(item, f"{pointer}/{i}")
        return
    if not isinstance(node, dict):
        return
    action_id = node.get("action_id")
    if action_id is not None and (not isinstance(action_id, str) or len(action_id) > MAX_ACTION_ID):
        raise _error(pointer + "/action_id", f"must be a string of at most {MAX_ACTION_ID} characters")
    if node.get("type") == "button":
        _check_text_object(node.get("text"), pointer + "/text", MAX_BUTTON_TEXT, plain_only=True)
    if node.get("type") in ("checkboxes", "radio_buttons"):
        _check_choices(node, pointer)
    if node.get("type") in STATIC_MENUS:
        _check_static_menu(node, pointer)
    for key, value in node.items():
        if key != "text" and isinstance(value, dict | list):
            _walk_elements(value, f"{pointer}/{key}")


def _check_choices(node: dict[str, Any], pointer: str) -> None:
    """Checkboxes and radio buttons: 1-10 options, and the initial ones must be among them, as Slack says."""
    options = node.get("options")
    if not isinstance(options, list) or not 1 <= len(options) <= MAX_CHOICES:
        raise _error(pointer + "/options", f"must provide between 1 and {MAX_CHOICES} items")
    initial = node.get("initial_options") if node.get("type") == "checkboxes" else None
    for i, option in enumerate(initial or []):
        if option not in options:
            raise _error(f"{pointer}/initial_options/{i}", "must match one of the provided options")


def _check_menu_option(option: Any, pointer: str) -> None:
    """A select menu's option: plain_text only (mrkdwn is for checkboxes and radio buttons), and a value."""
    if not isinstance(option, dict):
        raise _error(pointer, "must be an option object")
    _check_text_object(option.get("text"), pointer + "/text", MAX_OPTION_TEXT, plain_only=True)
    value = option.get("value")
    if not isinstance(value, str) or len(value) > MAX_OPTION_VALUE:
        raise _error(pointer + "/value", f"must be a string of at most {MAX_OPTION_VALUE} characters")
    if "description" in option:
        _check_text_object(option["description"], pointer + "/description", MAX_OPTION_TEXT, plain_only=True)


def _check_option_list(options: Any, pointer: str) -> list[Any]:
    if not isinstance(options, list) or len(options) > MAX_MENU_OPTIONS:
        raise _error(pointer, f"must be an array of at most {MAX_MENU_OPTIONS} items")
    for i, option in enumerate(options):
        _check_menu_option(option, f"{pointer}/{i}")
    return options


def _check_static_menu(node: dict[str, Any], pointer: str) -> None:
    """Static select menus (single and multi), per Slack's select menu element reference.

    Either `options` or `option_groups` (not both), at most 100 of either and 100 options a group; option
    text plain_text of at most 75 characters and values of at most 150; a group's label plain_text of at
    most 75; a placeholder plain_text of at most 150; and `initial_option` (`initial_options`) exactly
    matching options of the menu. https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element
    and .../composition-objects/option-object, .../option-group-object.
    """
    has_options, has_groups = "options" in node, "option_groups" in node
    if has_options == has_groups:
        raise _error(pointer, "must provide exactly one of options or option_groups")
    if has_options:
        offered = _check_option_list(node["options"], pointer + "/options")
    else:
        groups = node["option_groups"]
        if not isinstance(groups, list) or len(groups) > MAX_MENU_OPTIONS:
            raise _error(pointer + "/option_groups", f"must be an array of at most {MAX_MENU_OPTIONS} items")
        offered = []
        for i, group in enumerate(groups):
            where = f"{pointer}/option_groups/{i}"
            if not isinstance(group, dict):
                raise _error(where, "must be an option group object")
            _check_text_object(group.get("label"), where + "/label", MAX_OPTION_TEXT, plain_only=True)
            offered += _check_option_list(group.get("options"), where + "/options")
    if "placeholder" in node:
        _check_text_object(node["placeholder"], pointer + "/placeholder", MAX_PLACEHOLDER, plain_only=True)
    if node.get("type") == "static_select":
        initial = [("initial_option", node["initial_option"])] if "initial_option" in node else []
    else:
        chosen = node.get("initial_options", [])
        if not isinstance(chosen, list):
            raise _error(pointer + "/initial_options", "must be an array")
        initial = [(f"initial_options/{i}", option) for i, option in enumerate(chosen)]
    for where, option in initial:
        if option not in offered:
            raise _error(f"{pointer}/{where}", "must match one of the provided options")


def _check_block(block: Any, pointer: str) -> None:
    """Validate one block: known type, Slack's text limits, then the SDK's own model validation."""
    if not isinstance(block, dict):
        raise _error(pointer, "must be an object")
    btype = block.get("type")
    if btype not in KNOWN_BLOCK_TYPES:
        raise _error(pointer + "/type", f"unsupported type: {btype!r}")
    block_id = block.get("block_id")
    if block_id is not None and (not isinstance(block_id, str) or len(block_id) > MAX_BLOCK_ID):
        raise _error(pointer + "/block_id", f"must be a string of at most {MAX_BLOCK_ID} characters")
    if btype == "section":
        if "text" not in block and "fields" not in block and "expand" not in block:
            raise _error(pointer, "must provide text or fields")
        if "text" in block:
            _check_text_object(block["text"], pointer + "/text", MAX_SECTION_TEXT)
        for i, fld in enumerate(block.get("fields") or []):
            _check_text_object(fld, f"{pointer}/fields/{i}", 2000)
    elif btype == "header":
        _check_text_object(block.get("text"), pointer + "/text", MAX_HEADER_TEXT, plain_only=True)
    elif btype == "input":
        _check_text_object(block.get("label"), pointer + "/label", 2000, plain_only=True)
        if not isinstance(block.get("element"), dict):
            raise _error(pointer + "/element", "is required")
    elif btype in ("actions", "context") and not isinstance(block.get("elements"), list):
        raise _error(pointer + "/elements", "must be an array")
    children = [("accessory", block.get("accessory")), ("element", block.get("element"))]
    if btype in ("actions", "context"):
        children += [(f"elements/{i}", el) for i, el in enumerate(block.get("elements") or [])]
    for where, child in children:
        if child is not None and (
            not isinstance(child, dict) or child.get("type") not in KNOWN_ELEMENT_TYPES
        ):
            kind = child.get("type") if isinstance(child, dict) else type(child).__name__
            raise _error(f"{pointer}/{where}", f"unsupported element type: {kind!r}")
    _walk_elements({k: v for k, v in block.items() if k != "text"}, pointer)
    try:
        parsed = Block.parse(block)
        if parsed is None:
            raise _error(pointer + "/type", f"unsupported type: {btype!r}")
        parsed.validate_json()
    except SlackObjectFormationError as exc:
        raise _error(pointer, str(exc)) from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise _error(pointer, f"malformed block ({type(exc).__name__})") from None


def validate_blocks(
    blocks: Any, *, max_blocks: int = MAX_MESSAGE_BLOCKS, pointer: str = "/blocks"
) -> list[Any]:
    """Validate a decoded `blocks` argument and return it, raising invalid_blocks(_format) on failure."""
    if isinstance(blocks, str):
        raise SlackError("invalid_blocks_format", ["[ERROR] blocks must be a JSON array"])
    if not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format", ["[ERROR] blocks must be an array"])
    if len(blocks) > max_blocks:
        raise _error(pointer, f"no more than {max_blocks} items allowed")
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        _check_block(block, f"{pointer}/{i}")
        block_id = block.get("block_id")
        if block_id is None:
            continue
        if block_id in seen:
            raise _error(f"{pointer}/{i}/block_id", f"duplicate block_id: {block_id!r}")
        seen.add(block_id)
    return blocks


def validate_message_content(a: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    """Validate text/blocks/metadata of a message write; shared by postMessage, update, postEphemeral."""
    text = a.get("text")
    blocks = a.get("blocks")
    if blocks in ("", None, []):
        blocks = None
    if required and not text and blocks is None and not a.get("attachments"):
        raise SlackError("no_text")
    if text is not None and len(str(text)) > MAX_TEXT:
        raise SlackError("msg_too_long")
    out: dict[str, Any] = {"text": str(text or "")}
    if blocks is not None:
        out["blocks"] = validate_blocks(blocks)
    metadata = a.get("metadata")
    if metadata not in (None, ""):
        out["metadata"] = validate_metadata(metadata)
    return out


def validate_view(view: Any) -> dict[str, Any]:
    """Validate a views.open/push/update payload, raising invalid_arguments like Slack does."""
    if not isinstance(view, dict):
        raise SlackError("invalid_arguments", ["[ERROR] view must be a JSON object [json-pointer:/view]"])

    def bad(ptr: str, reason: str) -> SlackError:
        return SlackError("invalid_arguments", [f"[ERROR] {reason} [json-pointer:/view{ptr}]"])

    if view.get("type") not in VIEW_TYPES:
        raise bad("/type", "must be one of modal, home")
    if view["type"] == "modal":
        title = view.get("title")
        if not isinstance(title, dict) or title.get("type") != "plain_text":
            raise bad("/title", "must be a plain_text text object")
        if len(str(title.get("text", ""))) > MAX_VIEW_TITLE:
            raise bad("/title/text", f"must be less than {MAX_VIEW_TITLE + 1} characters")
        for key in ("submit", "close"):
            obj = view.get(key)
            if obj is not None and (
                not isinstance(obj, dict) or len(str(obj.get("text", ""))) > MAX_VIEW_BUTTON_TEXT
            ):
                raise bad(f"/{key}/text", f"must be less than {MAX_VIEW_BUTTON_TEXT + 1} characters")
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
        if has_input and view.get("submit") is None:
            raise bad("/submit", "is required when the view has input blocks")
    if len(str(view.get("private_metadata") or "")) > MAX_PRIVATE_METADATA:
        raise bad("/private_metadata", f"must be less than {MAX_PRIVATE_METADATA + 1} characters")
    if len(str(view.get("callback_id") or "")) > MAX_CALLBACK_ID:
        raise bad("/callback_id", f"must be less than {MAX_CALLBACK_ID + 1} characters")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        raise bad("/blocks", "must be an array")
    try:
        validate_blocks(blocks, max_blocks=MAX_VIEW_BLOCKS, pointer="/view/blocks")
    except SlackError as exc:
        raise SlackError("invalid_arguments", exc.messages) from None
    return view


def _store_view(
    st: EmulatorState,
    view: dict[str, Any],
    *,
    user_id: str,
    view_id: str | None = None,
    previous: str | None = None,
    root: str | None = None,
) -> dict[str, Any]:
    """Store a view in Slack's response shape (plus the opener's user_id) and return the API copy."""
    vid = view_id or st.next_id("V")
    stored: dict[str, Any] = {
        "id": vid,
        "team_id": st.team_id,
        "type": view["type"],
        "blocks": view.get("blocks", []),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "state": {"values": {}},
        "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
        "title": view.get("title"),
        "clear_on_close": bool(view.get("clear_on_close", False)),
        "notify_on_close": bool(view.get("notify_on_close", False)),
        "close": view.get("close"),
        "submit": view.get("submit"),
        "previous_view_id": previous,
        "root_view_id": root or vid,
        "app_id": APP_ID,
        "external_id": view.get("external_id", ""),
        "app_installed_team_id": st.team_id,
        "bot_id": BOT_ID,
        "user_id": user_id,
    }
    st.views[vid] = stored
    return {k: v for k, v in stored.items() if k != "user_id"}


def views_open(st: EmulatorState, a: dict[str, Any]) -> dict[str, Any]:
    """Open a modal: the trigger_id must be fresh and unused, and the view valid."""
    view = validate_view(a["view"])
    trigger = st.exchange_trigger(a.get("trigger_id") or a.get("interactivity_pointer"))
    if view["type"] != "modal":
        raise SlackError(
            "invalid_arguments", ["[ERROR] views.open only accepts modals [json-pointer:/view/type]"]
        )
    return {"view": _store_view(st, view, user_id=trigger.user_id)}


def views_push(st: EmulatorState, a: dict[str, Any]) -> dict[str, Any]:
    """Push a modal on top of the user's current one (same trigger rules as views.open)."""
    view = validate_view(a["view"])
    trigger = st.exchange_trigger(a.get("trigger_id") or a.get("interactivity_pointer"))
    mine = [v for v in st.views.values() if v["user_id"] == trigger.user_id and v["type"] == "modal"]
    if not mine:
        raise SlackError("not_found")
    top = mine[-1]
    return {
        "view": _store_view(st, view, user_id=trigger.user_id, previous=top["id"], root=top["root_view_id"])
    }


def views_update(st: EmulatorState, a: dict[str, Any]) -> dict[str, Any]:
    """Replace an existing view by view_id or external_id, honouring the optional hash check."""
    view = validate_view(a["view"])
    current: dict[str, Any] | None = st.views.get(str(a.get("view_id") or ""))
    if current is None and a.get("external_id"):
        current = next((v for v in st.views.values() if v["external_id"] == a["external_id"]), None)
    if current is None:
        raise SlackError("not_found")
    if a.get("hash") and a["hash"] != current["hash"]:
        raise SlackError("hash_conflict")
    return {
        "view": _store_view(
            st,
            view,
            user_id=current["user_id"],
            view_id=current["id"],
            previous=current["previous_view_id"],
            root=current["root_view_id"],
        )
    }


def views_publish(st: EmulatorState, a: dict[str, Any]) -> dict[str, Any]:
    """Publish a user's App Home view; the app must enable the Home tab (not_enabled otherwise)."""
    if not st.feature("app_home", "home_tab_enabled"):
        raise SlackError("not_enabled")
    view = validate_view(a["view"])
    user_id = str(a["user_id"])
    if user_id not in st.users:
        raise SlackError("user_not_found")
    old = st.home_views.get(user_id)
    out = _store_view(st, view, user_id=user_id, view_id=old["id"] if old else None)
    st.home_views[user_id] = st.views[out["id"]]
    return {"view": out}
