"""Wire every listener explicitly; handler modules never import a global app."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import App

from bot.listeners.action_items import (
    handle_action_done_button,
    handle_action_item_submission,
    handle_action_snooze_button,
    handle_make_action_item_shortcut,
)
from bot.listeners.commands import handle_incident_command
from bot.listeners.direct import CommandListener
from bot.listeners.home import handle_app_home_opened, handle_home_action_done_button
from bot.listeners.reminders import (
    handle_reminder_update_button,
    handle_snooze_button,
    handle_stale_resolve_button,
    handle_take_command_button,
)
from bot.listeners.room_forms import (
    handle_acknowledge_page_button,
    handle_assign_submission,
    handle_checklist_action,
    handle_edit_submission,
    handle_join_room_button,
    handle_mark_duplicate_button,
    handle_open_assign_button,
    handle_open_update_button,
    handle_update_submission,
)
from bot.listeners.shortcuts import handle_declare_shortcut
from bot.listeners.timeline import (
    handle_add_to_timeline_shortcut,
    handle_reaction_added,
    handle_reaction_removed,
)
from bot.listeners.views import handle_declare_submission
from bot.pipeline.runtime import Runtime
from bot.slack.ids import ActionId, ViewId
from bot.slack.manifest import CallbackId

# Slash commands by name: registered with Bolt (Socket Mode) and answered directly over HTTP.
COMMANDS: dict[str, CommandListener] = {"/incident": handle_incident_command}


def register_listeners(app: App, runtime: Runtime) -> None:
    """Attach the runtime to every request's context and register the handlers."""

    def inject_runtime(context: dict[str, Any], next: Callable[[], None]) -> None:
        context["runtime"] = runtime
        next()

    app.middleware(inject_runtime)
    for name, listener in COMMANDS.items():
        app.command(name)(listener)
    app.view(ViewId.DECLARE.value)(handle_declare_submission)
    app.shortcut(CallbackId.DECLARE_INCIDENT.value)(handle_declare_shortcut)
    app.shortcut(CallbackId.ADD_TO_TIMELINE.value)(handle_add_to_timeline_shortcut)
    app.action(ActionId.OPEN_ASSIGN.value)(handle_open_assign_button)
    app.action(ActionId.OPEN_UPDATE.value)(handle_open_update_button)
    app.action(ActionId.JOIN_ROOM.value)(handle_join_room_button)
    app.action(ActionId.ACK_PAGE.value)(handle_acknowledge_page_button)
    app.action(ActionId.MARK_DUPLICATE.value)(handle_mark_duplicate_button)
    app.action(ActionId.CHECKLIST.value)(handle_checklist_action)
    app.view(ViewId.ASSIGN.value)(handle_assign_submission)
    app.view(ViewId.UPDATE.value)(handle_update_submission)
    app.view(ViewId.EDIT.value)(handle_edit_submission)
    app.action(ActionId.REMINDER_UPDATE.value)(handle_reminder_update_button)
    app.action(re.compile(f"^{ActionId.SNOOZE.value}_"))(handle_snooze_button)
    app.action(ActionId.TAKE_COMMAND.value)(handle_take_command_button)
    app.action(ActionId.STALE_RESOLVE.value)(handle_stale_resolve_button)
    app.shortcut(CallbackId.MAKE_ACTION_ITEM.value)(handle_make_action_item_shortcut)
    app.view(ViewId.ACTION_ITEM.value)(handle_action_item_submission)
    app.action(ActionId.ACTION_DONE.value)(handle_action_done_button)
    app.action(ActionId.ACTION_SNOOZE.value)(handle_action_snooze_button)
    app.event("reaction_added")(handle_reaction_added)
    app.event("reaction_removed")(handle_reaction_removed)
    app.event("app_home_opened")(handle_app_home_opened)
    app.action(ActionId.HOME_ACTION_DONE.value)(handle_home_action_done_button)
