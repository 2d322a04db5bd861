"""Which webhook handlers a process serves, wired from settings, config and the runtime."""

from __future__ import annotations

from functools import partial

from bot.ops.config import IncidentConfig
from bot.ops.settings import Settings
from bot.pipeline.runtime import Runtime
from bot.webhooks import WebhookHandler
from bot.webhooks.alerts import alert_webhooks
from bot.webhooks.github import github_issues_webhook
from bot.webhooks.opsgenie import OpsgenieWebhook
from bot.webhooks.pager_acks import OnAcknowledged
from bot.webhooks.pagerduty import PagerDutyWebhook
from commands.paging import acknowledge_from_pager


def webhook_routes(
    settings: Settings,
    config: IncidentConfig,
    runtime: Runtime,
    *,
    on_acknowledged: OnAcknowledged | None = None,
) -> dict[str, WebhookHandler]:
    """One entry per service that may call us, keyed by the name after /webhooks/; each does its own auth."""
    routes: dict[str, WebhookHandler] = {}
    acknowledged = on_acknowledged or partial(
        acknowledge_from_pager, uow=runtime.uow, clock=runtime.clock, lease=runtime.lease
    )
    routes.update(pager_webhooks(settings, acknowledged))
    github, secret = config.trackers.github, settings.incidentbot_github_webhook_secret
    if github is not None and secret is not None:
        routes["github"] = github_issues_webhook(
            secret.get_secret_value(), github.repo, runtime.uow, runtime.clock
        )
    token = settings.incidentbot_webhook_token
    routes |= alert_webhooks(token.get_secret_value() if token else None, runtime)
    return routes


def pager_webhooks(settings: Settings, on_acknowledged: OnAcknowledged) -> dict[str, WebhookHandler]:
    """/webhooks/pagerduty and /webhooks/opsgenie, each served only when its secret or token is set."""
    routes: dict[str, WebhookHandler] = {}
    secret = settings.incidentbot_pagerduty_webhook_secret
    if secret is not None and secret.get_secret_value().strip():
        routes["pagerduty"] = PagerDutyWebhook(secret.get_secret_value().strip(), on_acknowledged)
    token = settings.incidentbot_opsgenie_webhook_token
    if token is not None and token.get_secret_value().strip():
        routes["opsgenie"] = OpsgenieWebhook(token.get_secret_value().strip(), on_acknowledged)
    return routes
