"""Alerts declare incidents: a firing alert group declares one; its later deliveries add to its timeline.

A group (Alertmanager's or Grafana's groupKey) is claimed once per source, and every delivery of it is
recorded under a lock on the group, so retries, repeats and concurrent deliveries never declare twice.
Only changes reach the timeline (an alert starting or stopping to fire), and resolving alerts never
resolves the incident: people do that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from commands.declare import DeclareRequest, record_declarations
from commands.declarer import source_declarer
from commands.incidents import DeclareSettings, Scheduled
from commands.limits import RateLimited
from commands.parsing import MAX_DESCRIPTION, MAX_TITLE, Declare
from commands.ports import Clock, UnitOfWork, UnitOfWorkFactory
from commands.records import AlertGroupState, TimelineEvent
from commands.vocabulary import IncidentStatus

# At most this many alert names in one timeline line; the rest are counted.
NAMES_SHOWN = 10
# Two transactions claiming one new group at once: the loser reads the winner's claim and tries again.
CLAIM_ATTEMPTS = 3


@dataclass(frozen=True)
class Alert:
    """One alert of a group: its identity, how it is named in the timeline, and whether it fires."""

    fingerprint: str
    name: str
    firing: bool
    labels: Mapping[str, str]
    annotations: Mapping[str, str]


@dataclass(frozen=True)
class AlertDelivery:
    """One webhook delivery of an alert group, as every source's payload is read."""

    source: str  # "alertmanager" or "grafana": the group keys' namespace
    source_name: str  # "Alertmanager": who the incident was declared by
    group_key: str
    firing: bool  # the group's status: False once every alert of it is resolved
    alerts: tuple[Alert, ...]
    common_labels: Mapping[str, str]
    common_annotations: Mapping[str, str]


class AlertSettings(DeclareSettings, Protocol):
    """What declaring from alerts reads from the config."""

    @property
    def alert_severity_label(self) -> str: ...

    def alert_severity(self, value: str | None) -> str: ...

    def service_names(self) -> list[str]: ...


class AlertOutcome(StrEnum):
    DECLARED = "declared"
    UPDATED = "updated"  # the open incident's timeline heard what changed
    UNCHANGED = "unchanged"  # a repeat: nothing new to record
    IGNORED = "ignored"  # resolved alerts of a group with no open incident: nothing to do


@dataclass(frozen=True)
class AlertResult:
    """What a delivery came to; a new incident's provisioning job to run when one was declared."""

    outcome: AlertOutcome
    incident_id: int | None = None
    ref: str | None = None
    scheduled: Scheduled | None = None


class _GroupTaken(Exception):
    """Another transaction claimed the group first."""


def record_alerts(
    delivery: AlertDelivery,
    *,
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: AlertSettings,
    lease: timedelta,
) -> AlertResult:
    """Declare an incident for a newly firing group, or add the group's changes to its open incident.

    Raises RateLimited (nothing recorded) when the source is over `declare_rate_limit`.
    """
    for _ in range(CLAIM_ATTEMPTS):
        try:
            return _record_once(delivery, uow=uow, clock=clock, settings=settings, lease=lease)
        except _GroupTaken:
            continue
    raise RuntimeError("alert group claimed repeatedly by other transactions")


def _record_once(
    delivery: AlertDelivery,
    *,
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: AlertSettings,
    lease: timedelta,
) -> AlertResult:
    now = clock.now()
    with uow() as tx:
        state = tx.alert_groups.lock(delivery.source, delivery.group_key)
        incident = tx.incidents.get(state.incident_id) if state and state.incident_id else None
        if incident is not None and incident.status != IncidentStatus.RESOLVED:
            firing, event = _changes(state.firing if state else {}, delivery, incident.id, now)
            if event is None:
                return AlertResult(AlertOutcome.UNCHANGED, incident.id, incident.ref)
            tx.timeline.add(event)
            state = AlertGroupState(incident.id, firing)
            tx.alert_groups.save(delivery.source, delivery.group_key, state, now)
            tx.commit()
            return AlertResult(AlertOutcome.UPDATED, incident.id, incident.ref)
        firing_alerts = [a for a in delivery.alerts if a.firing] if delivery.firing else []
        if not firing_alerts:
            return AlertResult(AlertOutcome.IGNORED)
        if state is None and not tx.alert_groups.claim(delivery.source, delivery.group_key, now):
            raise _GroupTaken
        return _declare(tx, delivery, firing_alerts, now, settings, lease)


def _declare(
    tx: UnitOfWork,
    delivery: AlertDelivery,
    firing_alerts: Sequence[Alert],
    now: datetime,
    settings: AlertSettings,
    lease: timedelta,
) -> AlertResult:
    first = firing_alerts[0]
    labels = {**first.labels, **delivery.common_labels}
    service = labels.get("service")
    known_service = service if service in settings.service_names() else None
    cmd = Declare(
        title=_title(delivery, first),
        severity=settings.alert_severity(labels.get(settings.alert_severity_label)),
        services=(known_service,) if known_service else (),
    )
    request = DeclareRequest(
        cmd,
        user_id=source_declarer(delivery.source_name),
        channel_id=None,
        description=_description(delivery, first),
        may_drill=False,
    )
    [declared] = record_declarations(tx, [request], now=now, settings=settings, lease=lease)
    if isinstance(declared, RateLimited):
        raise declared
    if declared is None:  # only a repeated delivery key gives None, and alerts have none
        raise RuntimeError("alert declaration not recorded")
    incident_id = declared.incident.id
    firing = {a.fingerprint: a.name for a in firing_alerts}
    tx.timeline.add(_event(incident_id, delivery, now, firing, new=list(firing.values()), resolved=[]))
    if service and known_service is None:
        tx.timeline.add(
            TimelineEvent(
                incident_id=incident_id,
                kind="alert_note",
                actor=None,
                text=f"The alert's service label {service!r} is not a configured service: no service set",
                occurred_at=now,
                data={"service": service},
            )
        )
    tx.alert_groups.save(delivery.source, delivery.group_key, AlertGroupState(incident_id, firing), now)
    tx.commit()
    return AlertResult(AlertOutcome.DECLARED, incident_id, declared.incident.ref, declared)


def _changes(
    before: Mapping[str, str], delivery: AlertDelivery, incident_id: int, now: datetime
) -> tuple[dict[str, str], TimelineEvent | None]:
    """What fires after this delivery, and the timeline event naming what started or stopped (None: no
    change). A resolved group resolves every alert it had, listed in the delivery or not."""
    firing = dict(before)
    new: list[str] = []
    resolved: list[str] = []
    for alert in delivery.alerts:
        if alert.firing and delivery.firing:
            if alert.fingerprint not in firing:
                new.append(alert.name)
            firing[alert.fingerprint] = alert.name
        elif alert.fingerprint in firing:
            resolved.append(firing.pop(alert.fingerprint))
    if not delivery.firing:
        resolved += firing.values()
        firing = {}
    if not new and not resolved:
        return firing, None
    return firing, _event(incident_id, delivery, now, firing, new=new, resolved=resolved)


def _event(
    incident_id: int,
    delivery: AlertDelivery,
    now: datetime,
    firing: Mapping[str, str],
    *,
    new: list[str],
    resolved: list[str],
) -> TimelineEvent:
    parts = []
    if new:
        parts.append(f"firing: {_names(new)}")
    if resolved:
        parts.append(f"resolved: {_names(resolved)}")
    if resolved and not firing:
        parts.append("no alert of the group is firing now (the incident stays open)")
    elif resolved:
        parts.append(f"{len(firing)} still firing")
    return TimelineEvent(
        incident_id=incident_id,
        kind="alerts_resolved" if resolved and not new else "alerts_firing",
        actor=None,
        text=f"{delivery.source_name} alerts {'; '.join(parts)}",
        occurred_at=now,
        data={"source": delivery.source, "new": new, "resolved": resolved, "firing": sorted(firing.values())},
    )


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:NAMES_SHOWN])
    more = len(names) - NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _title(delivery: AlertDelivery, first: Alert) -> str:
    """The `summary` annotation (the group's, else the first firing alert's), else the alert's name."""
    summary = delivery.common_annotations.get("summary") or first.annotations.get("summary")
    name = delivery.common_labels.get("alertname") or first.labels.get("alertname")
    title = _one_line(summary or name or f"{delivery.source_name} alert", MAX_TITLE)
    return title or f"{delivery.source_name} alert"


def _description(delivery: AlertDelivery, first: Alert) -> str:
    description = delivery.common_annotations.get("description") or first.annotations.get("description")
    return (description or "").strip()[:MAX_DESCRIPTION]
