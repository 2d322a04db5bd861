"""Severity targets on the in-memory store: planned from declaring, claimed once, cancelled by milestones."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.ops.config import IncidentConfig
from commands.assign import assign_role
from commands.escalate import escalate
from commands.jobs import JobKind
from commands.parsing import Assign, Declare, Escalate, PostUpdate, Reopen, Resolve
from commands.reopen import reopen_incident
from commands.resolve import resolve_incident
from commands.targets import span, tick
from commands.update import post_update
from tests.declare_one import declare_incident
from tests.unit.commands.conftest import LEASE, ROOM, START, Clock
from tests.unit.fakes import FakeDatabase

_LEVELS = IncidentConfig().severities
CONFIG = IncidentConfig().model_copy(
    update={
        "severities": {
            "sev1": _LEVELS["sev1"].model_copy(
                update={
                    "acknowledge_within": timedelta(minutes=5),
                    "mitigate_within": timedelta(hours=1),
                    "resolve_within": timedelta(hours=4),
                }
            ),
            "sev2": _LEVELS["sev2"].model_copy(update={"acknowledge_within": timedelta(minutes=10)}),
            "sev3": _LEVELS["sev3"],
        }
    }
)


def declare(db: FakeDatabase, clock: Clock, severity: str = "sev1") -> int:
    scheduled = declare_incident(
        Declare(title="Checkout down", severity=severity),
        user_id="U1",
        channel_id=None,
        uow=db,
        clock=clock,
        settings=CONFIG,
        lease=LEASE,
    )
    number = scheduled.incident.id
    with db() as tx:  # the room, as provisioning would have recorded it
        tx.incidents.update_columns(number, {"channel_id": ROOM})
        tx.commit()
    return number


def run_tick(db: FakeDatabase, clock: Clock) -> list[tuple[str, dict[str, object]]]:
    """The jobs one tick records: (kind, payload)."""
    ids = tick(uow=db, clock=clock, settings=CONFIG, lease=LEASE).job_ids
    with db() as tx:
        jobs = [tx.jobs.get(i) for i in ids]
    return [(job.kind, job.payload) for job in jobs if job is not None]


def breaches(db: FakeDatabase, number: int) -> list[str]:
    return [str(e.data["target"]) for e in db.events(number, "target_breached")]


def deps(clock: Clock, db: FakeDatabase) -> dict[str, Any]:
    return {"channel_id": ROOM, "uow": db, "clock": clock, "settings": CONFIG, "lease": LEASE}


class Admin:
    def is_admin(self, user_id: str) -> bool | None:
        return user_id == "U1"


def test_declaring_plans_the_first_warning_and_a_severity_without_targets_plans_nothing(
    db: FakeDatabase, clock: Clock
) -> None:
    sev1 = declare(db, clock)
    assert db.incident(sev1).target_due_at == START + timedelta(minutes=4), "80% of the 5m acknowledge target"
    with db() as tx:
        tx.incidents.update_columns(sev1, {"channel_id": "C0"})
        tx.commit()
    sev3 = declare(db, clock, "sev3")
    assert db.incident(sev3).target_due_at is None


def test_warning_then_breach_each_once_then_the_next_target(db: FakeDatabase, clock: Clock) -> None:
    number = declare(db, clock)
    clock.advance(minutes=3, seconds=59)
    assert run_tick(db, clock) == []
    clock.advance(seconds=1)
    [(kind, payload)] = run_tick(db, clock)
    assert kind == JobKind.TARGET_WARNING
    assert (
        payload["target"] == "acknowledge_within" and payload["target_s"] == 300 and payload["left_s"] == 60
    )
    assert run_tick(db, clock) == [], "claimed once"
    assert db.incident(number).target_due_at == START + timedelta(minutes=5)
    clock.advance(minutes=1, seconds=2)
    [(kind, payload)] = run_tick(db, clock)
    assert kind == JobKind.TARGET_BREACHED
    assert payload["over_s"] == 2 and payload["elapsed_s"] == 302 and payload["reached"] is False
    assert breaches(db, number) == ["acknowledge_within"], "a breach is on the timeline"
    assert [e.text for e in db.events(number, "target_breached")] == [
        "Missed the 5m acknowledgement target (not acknowledged)"
    ]
    assert run_tick(db, clock) == []
    assert db.incident(number).target_due_at == START + timedelta(minutes=48), "80% of mitigate_within"


def test_a_milestone_before_its_moment_cancels_its_warning_and_breach(db: FakeDatabase, clock: Clock) -> None:
    number = declare(db, clock)
    clock.advance(minutes=3)
    assign_role(Assign(role="commander", user_id="U2"), user_id="U1", **deps(clock, db))
    assert db.incident(number).acknowledged_at == clock.now()
    clock.advance(minutes=3)
    assert run_tick(db, clock) == []
    assert db.incident(number).target_due_at == START + timedelta(minutes=48)
    clock.advance(minutes=42)
    post_update(PostUpdate(message="Rolled back", status="monitoring"), user_id="U2", **deps(clock, db))
    clock.advance(hours=1)
    assert run_tick(db, clock) == [], "mitigated at 48m: the 1h target is met"
    assert db.incident(number).target_due_at == START + timedelta(hours=3, minutes=12)
    assert breaches(db, number) == []


def test_after_a_restart_past_both_moments_only_the_breach_is_posted(db: FakeDatabase, clock: Clock) -> None:
    number = declare(db, clock)
    clock.advance(minutes=50)  # nobody ticked: ack warning and breach, and the mitigate warning, passed
    posted = run_tick(db, clock)
    assert sorted((kind, p["target"]) for kind, p in posted) == [
        (JobKind.TARGET_BREACHED, "acknowledge_within"),
        (JobKind.TARGET_WARNING, "mitigate_within"),
    ]
    warning = next(p for kind, p in posted if kind == JobKind.TARGET_WARNING)
    assert warning["left_s"] == 600, "the time left as of the late claim"
    assert breaches(db, number) == ["acknowledge_within"]
    assert db.incident(number).target_due_at == START + timedelta(hours=1)


def test_a_milestone_reached_late_still_counts_as_a_breach(db: FakeDatabase, clock: Clock) -> None:
    number = declare(db, clock)
    clock.advance(minutes=7)
    assign_role(Assign(role="commander", user_id="U2"), user_id="U1", **deps(clock, db))
    [(kind, payload)] = run_tick(db, clock)  # no tick ran between 4m and the late acknowledgement
    assert kind == JobKind.TARGET_BREACHED and payload["reached"] is True and payload["elapsed_s"] == 420
    assert db.events(number, "target_breached")[0].text.endswith("(acknowledged after 7m)")


def test_escalating_replans_from_the_declaration_and_a_breach_is_never_announced_twice(
    db: FakeDatabase, clock: Clock
) -> None:
    number = declare(db, clock, "sev2")  # acknowledge within 10m
    assert db.incident(number).target_due_at == START + timedelta(minutes=8)
    clock.advance(minutes=7)
    escalate(Escalate(severity="sev1"), user_id="U1", paged_users=[], **deps(clock, db))
    assert db.incident(number).target_due_at == START + timedelta(minutes=4), "sev1's targets, from declaring"
    [(kind, payload)] = run_tick(db, clock)
    assert kind == JobKind.TARGET_BREACHED and payload["target_s"] == 300, "sev1's 5m was missed: no warning"
    clock.advance(minutes=1)  # 8m: sev2's acknowledge warning moment
    lowering = {**deps(clock, db), "admins": Admin()}  # lowering the severity takes an admin
    escalate(Escalate(severity="sev2"), user_id="U1", paged_users=[], **lowering)
    assert run_tick(db, clock) == []
    clock.advance(minutes=3)
    assert run_tick(db, clock) == [], "a target announced as missed is neither warned nor missed again"
    assert breaches(db, number) == ["acknowledge_within"]


def test_resolving_stops_the_targets_and_reopening_counts_resolution_from_the_declaration(
    db: FakeDatabase, clock: Clock
) -> None:
    number = declare(db, clock)
    clock.advance(minutes=1)
    assign_role(Assign(role="commander", user_id="U2"), user_id="U1", **deps(clock, db))
    clock.advance(minutes=30)
    post_update(PostUpdate(message="Fixed", status="monitoring"), user_id="U2", **deps(clock, db))
    clock.advance(minutes=30)
    resolve_incident(Resolve(), user_id="U2", **deps(clock, db))
    assert db.incident(number).target_due_at is None
    clock.advance(hours=4)
    assert run_tick(db, clock) == []
    reopen_incident(Reopen(reason="It is back"), user_id="U2", **deps(clock, db))
    assert db.incident(number).target_due_at == START + timedelta(hours=3, minutes=12)
    [(kind, payload)] = run_tick(db, clock)
    assert (kind, payload["target"]) == (JobKind.TARGET_BREACHED, "resolve_within"), (
        "resolved in time, reopened past the target: it is missed now"
    )
    resolve_incident(Resolve(), user_id="U2", **deps(clock, db))
    reopen_incident(Reopen(reason="Again"), user_id="U2", **deps(clock, db))
    assert run_tick(db, clock) == [], "announced once: a second reopen does not repeat it"


def test_a_claim_loses_to_a_milestone_committed_after_the_tick_read(db: FakeDatabase, clock: Clock) -> None:
    number = declare(db, clock)
    clock.advance(minutes=4)
    with db() as ticking:
        [due] = ticking.targets.due(clock.now(), 10)
        with db() as other:
            other.incidents.update_columns(number, {"acknowledged_at": clock.now()})
            other.commit()
        ticking.state = db.committed.copy()  # the fake's stand-in for the row the UPDATE re-checks
        assert ticking.targets.claim(due, None) is False
    assert run_tick(db, clock) == [], "the next tick decides on the acknowledged incident"


def test_spans_read_as_people_say_them() -> None:
    assert [span(timedelta(seconds=s)) for s in (30, 57, 240, 3600, 3900, 86400 + 7200)] == [
        "30s",
        "1m",
        "4m",
        "1h",
        "1h 5m",
        "1d 2h",
    ]
