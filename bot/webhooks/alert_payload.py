"""Read an Alertmanager (webhook version 4) or Grafana alerting webhook body into an AlertDelivery.

Both send one alert group per request: `status`, `groupKey`, `commonLabels`, `commonAnnotations` and
`alerts[]` with `status`, `labels`, `annotations` and `fingerprint` (Grafana adds `title`, `state`,
`message`, `orgId`, which a declaration does not need). Anything else in the body is ignored.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from commands.alerts import Alert, AlertDelivery

MAX_ALERTS = 1000
MAX_GROUP_KEY = 10_000
MAX_LABEL = 10_000  # a label or annotation value; annotations carry descriptions and runbooks
STATUSES = ("firing", "resolved")


class PayloadError(ValueError):
    """The body is not an alert group we can read; the reason is fixed text, never the body's."""


def parse_delivery(source: str, source_name: str, body: bytes) -> AlertDelivery:
    """Raise PayloadError for anything that is not JSON of the documented shape."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise PayloadError("body is not JSON") from exc
    if not isinstance(data, dict):
        raise PayloadError("body is not a JSON object")
    if source == "alertmanager" and data.get("version", "4") != "4":
        raise PayloadError("unsupported Alertmanager webhook version (expected 4)")
    status = _status(data.get("status"))
    group_key = data.get("groupKey")
    if not isinstance(group_key, str) or not group_key or len(group_key) > MAX_GROUP_KEY:
        raise PayloadError("groupKey missing or invalid")
    raw_alerts = data.get("alerts")
    if not isinstance(raw_alerts, list) or not raw_alerts or len(raw_alerts) > MAX_ALERTS:
        raise PayloadError("alerts missing or invalid")
    common_labels = _strings(data.get("commonLabels", {}), "commonLabels")
    alerts = tuple(_alert(raw, common_labels) for raw in raw_alerts)
    return AlertDelivery(
        source=source,
        source_name=source_name,
        group_key=group_key,
        firing=status == "firing",
        alerts=alerts,
        common_labels=common_labels,
        common_annotations=_strings(data.get("commonAnnotations", {}), "commonAnnotations"),
    )


def _status(value: Any) -> str:
    if value not in STATUSES:
        raise PayloadError("status must be firing or resolved")
    return str(value)


def _strings(value: Any, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and len(v) <= MAX_LABEL for k, v in value.items()
    ):
        raise PayloadError(f"{what} must map names to strings")
    return dict(value)


def _alert(raw: Any, common_labels: dict[str, str]) -> Alert:
    if not isinstance(raw, dict):
        raise PayloadError("an alert is not an object")
    labels = _strings(raw.get("labels", {}), "labels")
    fingerprint = raw.get("fingerprint")
    if not isinstance(fingerprint, str) or not fingerprint:
        # Older Alertmanagers send none: the label set is what identifies an alert.
        canonical = json.dumps(sorted(labels.items()))
        fingerprint = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    return Alert(
        fingerprint=fingerprint[:100],
        name=_name(labels, common_labels),
        firing=_status(raw.get("status")) == "firing",
        labels=labels,
        annotations=_strings(raw.get("annotations", {}), "annotations"),
    )


def _name(labels: dict[str, str], common: dict[str, str]) -> str:
    """`alertname{label="value", ...}` with the labels that tell it from the group's other alerts."""
    name = labels.get("alertname") or "alert"
    own = [f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "alertname" and common.get(k) != v]
    text = name + ("{" + ", ".join(own) + "}" if own else "")
    return text if len(text) <= 150 else text[:149] + "…"
