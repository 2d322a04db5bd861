"""The JSON export and the draft's front matter tell the same times, durations, owner and review day."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from bot.ops.export import export_record
from commands.postmortem import PostmortemData, assemble
from commands.records import Incident
from tests.postmortem_markdown import split
from tests.unit.test_postmortem_render import CADENCE, START, incident, renderer

# front matter key -> where the JSON export keeps the same value
INSTANTS = {
    "declared": ("declared_at",),
    "acknowledged": ("acknowledged_at",),
    "mitigated": ("mitigated_at",),
    "resolved": ("resolved_at",),
    "impact_started": ("impact_started_at",),
    "detected": ("detected_at",),
}
SECONDS = {
    "time_to_acknowledge": ("durations_seconds", "to_acknowledge"),
    "time_to_mitigate": ("durations_seconds", "to_mitigate"),
    "time_to_resolve": ("durations_seconds", "to_resolve"),
    "mitigated_to_resolved": ("durations_seconds", "mitigated_to_resolved"),
    "time_to_detect": ("durations_seconds", "to_detect"),
    "impact_duration": ("durations_seconds", "impact"),
}
SAME = {
    "postmortem_owner": ("postmortem_owner",),
    "postmortem_status": ("postmortem_status",),
    "review_date": ("review_date",),
}


def _at(record: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        record = record[key]
    return record


def _instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def pair(pm: PostmortemData) -> tuple[dict[str, Any], dict[str, Any]]:
    """The front matter and the JSON record (through json, as a reader of the file sees it)."""
    front, _body = split(renderer().render(pm))
    return front, json.loads(json.dumps(export_record(pm)))


def assert_agree(front: dict[str, Any], record: dict[str, Any]) -> None:
    for key, path in INSTANTS.items():
        assert _instant(front[key]) == _instant(_at(record, path)), key
        assert _at(record, path) is None or _at(record, path).endswith("Z"), "JSON times stay in UTC"
    for key, path in {**SECONDS, **SAME}.items():
        assert front[key] == _at(record, path), key


def test_every_field_set_agrees() -> None:
    pm = replace(
        incident(), postmortem_owner="U4", postmortem_status="in-review", review_date=date(2026, 3, 9)
    )
    front, record = pair(pm)
    assert_agree(front, record)
    assert (
        record["impact_started_at"] == "2026-03-01T12:50:00Z"
        and record["detected_at"] == "2026-03-01T12:57:00Z"
    )
    assert record["durations_seconds"]["to_detect"] == 7 * 60
    assert record["durations_seconds"]["impact"] == 70 * 60, "impact started to mitigated"
    assert (record["postmortem_owner"], record["postmortem_status"], record["review_date"]) == (
        "U4",
        "in-review",
        "2026-03-09",
    )
    assert [a["type"] for a in record["action_items"]] == [None, "prevent"]
    _front, body = split(renderer().render(pm))
    prevent = body.split("**Prevent**")[1].split("**Other**")[0]
    assert "P1" in prevent, "the typed item is grouped under its type in the draft too"


def test_nothing_recorded_is_null_in_both() -> None:
    bare = Incident(
        id=4,
        title="Quiet",
        severity="sev2",
        status="investigating",
        private=False,
        declared_by="U1",
        declared_at=START,
    )
    front, record = pair(assemble(bare, [], [], CADENCE.__getitem__))
    assert_agree(front, record)
    unknown = [*INSTANTS, *SECONDS, "postmortem_owner", "review_date"]
    assert [k for k in unknown if k != "declared" and front[k] is not None] == []
    assert record["impact_started_at"] is None and record["detected_at"] is None
    assert record["durations_seconds"]["to_detect"] is None and record["durations_seconds"]["impact"] is None
    assert (record["postmortem_owner"], record["postmortem_status"], record["review_date"]) == (
        None,
        "draft",
        None,
    )
