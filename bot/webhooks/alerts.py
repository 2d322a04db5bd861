"""POST /webhooks/alertmanager and /webhooks/grafana: a firing alert group declares an incident.

Authenticated with `Authorization: Bearer <INCIDENTBOT_WEBHOOK_TOKEN>`; the change is recorded before
the answer and the room is made by the worker, so the sender hears back at once. Alertmanager retries
any non-2xx answer, so a refusal is only given when a retry could not do better, or later (429, 503).
"""

from __future__ import annotations

import hmac
import json
import logging
from contextlib import suppress
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from bot.pipeline.runtime import Runtime
from bot.slack.request_gate import Answer, RefusalLog
from bot.webhooks import WebhookHandler, WebhookRequest
from bot.webhooks.alert_payload import PayloadError, parse_delivery
from commands.alerts import AlertOutcome, record_alerts
from commands.limits import RateLimited

log = logging.getLogger(__name__)

# The services that may declare, by the name after /webhooks/, and the name incidents show as declarer.
ALERT_SOURCES = {"alertmanager": "Alertmanager", "grafana": "Grafana"}

UNAUTHORIZED = Answer(401, '{"error": "missing or wrong bearer token"}', "application/json")
RATE_LIMITED = Answer(
    429, '{"error": "declare_rate_limit reached for this source; nothing recorded"}', "application/json"
)
UNAVAILABLE = Answer(503, '{"error": "could not record the alerts; retry"}', "application/json")


def _json(status: int, **fields: object) -> Answer:
    return Answer(status, json.dumps(fields), "application/json")


@dataclass
class AlertWebhook:
    """One alerting system's webhook: authenticate, read, record, start the room's job, answer."""

    source: str
    token: bytes
    runtime: Runtime
    refusals: RefusalLog

    def __call__(self, request: WebhookRequest) -> Answer:
        if not self._authorized(request.headers.get("authorization", "")):
            self.refusals.refused(f"{self.source} webhook: missing or wrong bearer token")
            return UNAUTHORIZED
        try:
            delivery = parse_delivery(self.source, ALERT_SOURCES[self.source], request.body)
        except PayloadError as exc:
            self.refusals.refused(f"{self.source} webhook: {exc}")
            return _json(400, error=f"malformed alert payload: {exc}")
        runtime = self.runtime
        try:
            result = record_alerts(
                delivery, uow=runtime.uow, clock=runtime.clock, settings=runtime.config, lease=runtime.lease
            )
        except RateLimited:
            self.refusals.refused(f"{self.source} webhook: declare_rate_limit reached")
            return RATE_LIMITED
        except SQLAlchemyError as exc:  # its text may quote the alerts' labels: only the type is logged
            log.error("could not record a %s delivery: %s", self.source, type(exc).__name__)
            return UNAVAILABLE
        log.info("%s alert group: %s %s", self.source, result.outcome, result.ref or "")
        if result.scheduled is not None:
            # Stopping (the pool is shut): the job is recorded and released with the rest for the next
            # process, so the declaration still stands and the answer says so.
            with suppress(RuntimeError):
                runtime.submit(runtime.run, result.scheduled, wait=False)
        status = 202 if result.outcome is AlertOutcome.DECLARED else 200
        return _json(status, outcome=str(result.outcome), incident=result.ref)

    def _authorized(self, header: str) -> bool:
        scheme, _, credentials = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(credentials.strip().encode("utf-8"), self.token)


def alert_webhooks(token: str | None, runtime: Runtime) -> dict[str, WebhookHandler]:
    """The alert routes, or none without a token: an unauthenticated declare endpoint is never served."""
    if not token:
        return {}
    refusals = RefusalLog()
    secret = token.encode("utf-8")
    return {source: AlertWebhook(source, secret, runtime, refusals) for source in ALERT_SOURCES}
