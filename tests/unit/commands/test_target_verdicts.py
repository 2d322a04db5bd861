"""The postmortem's verdict on each target: met, missed, or not reached yet, with actual against target."""

from __future__ import annotations

from datetime import timedelta

from commands.postmortem import assemble
from commands.records import Incident, TimelineEvent
from tests.unit.commands.conftest import START

TARGETS = {
    "acknowledge_within": timedelta(minutes=5),
    "mitigate_within": timedelta(hours=1),
    "resolve_within": timedelta(hours=4),
}


def incident(**milestones: float) -> Incident:
    """Declared at START; each milestone that many minutes later."""
    return Incident(
        id=7,
        title="Checkout down",
        severity="sev1",
        status="resolved" if "resolved_at" in milestones else "monitoring",
        declared_by="U1",
        declared_at=START,
        **{name: START + timedelta(minutes=m) for name, m in milestones.items()},
    )


def verdicts(inc: Incident, events: list[TimelineEvent] | None = None) -> list[tuple[str, object, object]]:
    pm = assemble(inc, events or [], [], lambda _s: timedelta(hours=1), targets=TARGETS)
    return [(t.name, t.actual, t.met) for t in pm.targets]


def test_a_milestone_within_its_target_is_met_and_after_it_missed() -> None:
    assert verdicts(incident(acknowledged_at=5, mitigated_at=61, resolved_at=90)) == [
        ("acknowledge_within", timedelta(minutes=5), True),
        ("mitigate_within", timedelta(minutes=61), False),
        ("resolve_within", timedelta(minutes=90), True),
    ]


def test_an_unreached_target_is_not_reached_yet_until_announced_or_resolved_past_it() -> None:
    open_one = incident(acknowledged_at=2)
    assert verdicts(open_one)[1:] == [("mitigate_within", None, None), ("resolve_within", None, None)]
    breach = TimelineEvent(
        id=1,
        incident_id=7,
        kind="target_breached",
        occurred_at=START + timedelta(hours=1),
        data={"target": "mitigate_within"},
    )
    assert verdicts(open_one, [breach])[1] == ("mitigate_within", None, False), "the room was told"
    never_mitigated = incident(acknowledged_at=2, resolved_at=70)
    assert verdicts(never_mitigated)[1] == ("mitigate_within", None, False), "resolved past it without it"
    quick = incident(acknowledged_at=2, resolved_at=30)
    assert verdicts(quick)[1] == ("mitigate_within", None, None), "resolved in time, never mitigated"
