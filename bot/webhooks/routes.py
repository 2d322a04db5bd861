"""Which webhook handlers a process serves, wired from settings, config and the runtime."""

from __future__ import annotations

from bot.ops.config import IncidentConfig
from bot.ops.settings import Settings
from bot.pipeline.runtime import Runtime
from bot.webhooks import WebhookHandler
from bot.webhooks.alerts import alert_webhooks


def webhook_routes(settings: Settings, config: IncidentConfig, runtime: Runtime) -> dict[str, WebhookHandler]:
    """One entry per service that may call us, keyed by the name after /webhooks/; each does its own auth."""
    del config  # each webhook feature adds its handler here
    token = settings.incidentbot_webhook_token
    routes: dict[str, WebhookHandler] = {}
    routes |= alert_webhooks(token.get_secret_value() if token else None, runtime)
    return routes
