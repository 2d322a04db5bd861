"""Which webhook handlers a process serves, wired from settings, config and the runtime."""

from __future__ import annotations

from bot.ops.config import IncidentConfig
from bot.ops.settings import Settings
from bot.pipeline.runtime import Runtime
from bot.webhooks import WebhookHandler
from bot.webhooks.github import github_issues_webhook


def webhook_routes(settings: Settings, config: IncidentConfig, runtime: Runtime) -> dict[str, WebhookHandler]:
    """One entry per service that may call us, keyed by the name after /webhooks/; each does its own auth."""
    routes: dict[str, WebhookHandler] = {}  # each webhook feature adds its handler here
    github, secret = config.trackers.github, settings.incidentbot_github_webhook_secret
    if github is not None and secret is not None:
        routes["github"] = github_issues_webhook(
            secret.get_secret_value(), github.repo, runtime.uow, runtime.clock
        )
    return routes
