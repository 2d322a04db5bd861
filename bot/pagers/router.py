"""The pager port over every pager service: a target's prefix picks the service, its name the key."""

from __future__ import annotations

import os
from collections.abc import Mapping

from bot.ops.settings import Settings
from commands.pager import PagerRefused

from . import opsgenie, pagerduty
from .keys import read_key
from .opsgenie import OpsgenieAlerts
from .pagerduty import PagerDutyEvents


class Pagers:
    """Implements commands.pager.Pager for "pagerduty:<name>" and "opsgenie:<name>" targets."""

    def __init__(
        self, pagerduty: PagerDutyEvents, opsgenie: OpsgenieAlerts, environ: Mapping[str, str] | None = None
    ) -> None:
        self.pagerduty = pagerduty
        self.opsgenie = opsgenie
        # Keys are read on every call, so setting or rotating one needs no restart.
        self.environ: Mapping[str, str] = os.environ if environ is None else environ

    @classmethod
    def from_settings(cls, settings: Settings, environ: Mapping[str, str] | None = None) -> Pagers:
        """The pagers at the configured base URLs (EU regions, the emulators), with the call timeout."""
        timeout = settings.incidentbot_pager_timeout_seconds
        return cls(
            PagerDutyEvents(settings.incidentbot_pagerduty_url, timeout),
            OpsgenieAlerts(settings.incidentbot_opsgenie_url, timeout),
            environ,
        )

    def trigger(
        self, target: str, dedup_key: str, summary: str, *, priority: int, details: Mapping[str, str]
    ) -> None:
        """Open the alert at the target's service, notifying its own on-call people."""
        service, name = _split(target)
        key = read_key(self.environ, service, name)
        if service == pagerduty.SERVICE:
            self.pagerduty.trigger(target, key, dedup_key, summary, priority, details)
        else:
            self.opsgenie.create(target, key, dedup_key, summary, priority, details)

    def acknowledge(self, target: str, dedup_key: str) -> None:
        """Someone answered in Slack: the service stops escalating."""
        service, name = _split(target)
        key = read_key(self.environ, service, name)
        if service == pagerduty.SERVICE:
            self.pagerduty.acknowledge(target, key, dedup_key)
        else:
            self.opsgenie.acknowledge(target, key, dedup_key)

    def resolve(self, target: str, dedup_key: str) -> None:
        """The incident is resolved: resolve (PagerDuty) or close (Opsgenie) the alert."""
        service, name = _split(target)
        key = read_key(self.environ, service, name)
        if service == pagerduty.SERVICE:
            self.pagerduty.resolve(target, key, dedup_key)
        else:
            self.opsgenie.close(target, key, dedup_key)


def _split(target: str) -> tuple[str, str]:
    """("pagerduty" | "opsgenie", name); raises PagerRefused for any other service."""
    service, _, name = target.partition(":")
    if service not in (pagerduty.SERVICE, opsgenie.SERVICE) or not name:
        raise PagerRefused(f"{target[:80]} is not a pager target (use pagerduty:<name> or opsgenie:<name>)")
    return service, name
