"""Wire every listener explicitly; handler modules never import a global app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App

from bot.ids import ViewId
from bot.listeners.commands import handle_incident_command
from bot.listeners.shortcuts import handle_declare_shortcut
from bot.listeners.views import handle_declare_submission
from bot.manifest import CallbackId
from bot.runtime import Runtime


def register_listeners(app: App, runtime: Runtime) -> None:
    """Attach the runtime to every request's context and register the handlers."""

    def inject_runtime(context: dict[str, Any], next: Callable[[], None]) -> None:
        context["runtime"] = runtime
        next()

    app.middleware(inject_runtime)
    app.command("/incident")(handle_incident_command)
    app.view(ViewId.DECLARE.value)(handle_declare_submission)
    app.shortcut(CallbackId.DECLARE_INCIDENT.value)(handle_declare_shortcut)
