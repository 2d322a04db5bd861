"""Update reminders and commander checks claimed on every backend: plain rows, a fixed statement count."""

from __future__ import annotations

from datetime import datetime, timedelta

from commands.jobs import JobKind
from commands.reminders import tick
from store.models import Incident, RoleAssignment
from store.uow import SqlUnitOfWorkFactory
from tests.store.racing import race
from tests.store.test_retention import engine_of, statements
from tests.store.test_timer_claims import CONFIG, LEASE, NOW, Clock

DUE = NOW - timedelta(minutes=1)


def add_incident(
    uow: SqlUnitOfWorkFactory,
    *,
    status: str = "investigating",
    roles: dict[str, str] | None = None,
    ended: dict[str, str] | None = None,
    update_due: datetime | None = DUE,
    commander_due: datetime | None = None,
    last_update_at: datetime | None = None,
) -> int:
    """An incident with these current (and ended) role holders and due times."""
    assignments = [
        RoleAssignment(role=role, user_id=user, assigned_by="U1", assigned_at=NOW - timedelta(hours=1))
        for role, user in (roles or {}).items()
    ] + [
        RoleAssignment(
            role=role,
            user_id=user,
            assigned_by="U1",
            assigned_at=NOW - timedelta(hours=2),
            ended_at=NOW - timedelta(hours=1),
        )
        for role, user in (ended or {}).items()
    ]
    with uow() as tx:
        incident = Incident(
            title="Checkout down",
            severity="sev2",
            status=status,
            declared_by="U1",
            declared_at=NOW - timedelta(hours=3),
            channel_id=None,
            next_update_due_at=update_due,
            commander_due_at=commander_due,
            last_update_at=last_update_at,
            reminders_since_update=0,
            roles=assignments,
        )
        tx.session.add(incident)
        tx.commit()
        return incident.id


def reminded(uow: SqlUnitOfWorkFactory, ids: list[int]) -> list[int]:
    """The incidents these jobs remind, in order, once per job."""
    with uow() as tx:
        found = [tx.jobs.get(job_id) for job_id in ids]
        return sorted(job.incident_id for job in found if job is not None)


def test_claimed_incidents_read_only_the_roles_still_in_force(uow_factory: SqlUnitOfWorkFactory) -> None:
    updated = NOW - timedelta(minutes=30)
    first = add_incident(
        uow_factory,
        roles={"commander": "U2", "comms": "U3"},
        ended={"commander": "U9"},
        last_update_at=updated,
    )
    second = add_incident(uow_factory, status="resolved", ended={"comms": "U8"})
    with uow_factory() as tx, statements(engine_of(uow_factory)) as seen:
        claimed = tx.reminders.claimed_incidents([first, second, 999])
    assert len(seen) == 2  # the roles and the incidents, whatever their number
    assert set(claimed) == {first, second}
    assert claimed[first].roles == {"commander": "U2", "comms": "U3"}
    assert claimed[first].last_update_at == updated
    assert (claimed[first].status, claimed[first].severity, claimed[first].declared_by) == (
        "investigating",
        "sev2",
        "U1",
    )
    assert claimed[second].roles == {}
    assert claimed[second].status == "resolved"


def test_a_busy_tick_costs_the_same_statements_as_a_small_one(uow_factory: SqlUnitOfWorkFactory) -> None:
    engine = engine_of(uow_factory)
    # SQLite, in process, takes the job rows one INSERT each to return their ids in order; PostgreSQL, a
    # round trip away, one for all.
    per_row = "INSERT INTO slack_jobs" if engine.dialect.name == "sqlite" else None

    def statements_for(count: int) -> int:
        for _ in range(count):
            add_incident(uow_factory, roles={"comms": "U3"}, commander_due=DUE)
        with statements(engine) as seen:
            result = tick(uow=uow_factory, clock=Clock(), settings=CONFIG, lease=LEASE)
        assert result.due == 2 * count
        return len([sql for sql, _ in seen if per_row is None or not sql.startswith(per_row)])

    assert statements_for(2) == statements_for(7)


def test_each_reminder_names_who_holds_the_roles_now(uow_factory: SqlUnitOfWorkFactory) -> None:
    comms = add_incident(uow_factory, roles={"commander": "U2", "comms": "U3"}, ended={"comms": "U9"})
    commander = add_incident(uow_factory, roles={"commander": "U2"}, ended={"comms": "U9"})
    nobody = add_incident(uow_factory, ended={"commander": "U9"}, commander_due=DUE)
    resolved = add_incident(uow_factory, status="resolved", commander_due=DUE)
    led = add_incident(uow_factory, roles={"commander": "U2"}, update_due=None, commander_due=DUE)
    result = tick(uow=uow_factory, clock=Clock(), settings=CONFIG, lease=LEASE)
    by_kind: dict[str, dict[int, dict[str, object]]] = {}
    with uow_factory() as tx:
        for job_id in result.job_ids:
            job = tx.jobs.get(job_id)
            assert job is not None
            by_kind.setdefault(job.kind, {})[job.incident_id] = dict(job.payload)
    reminders = by_kind[JobKind.REMINDER]
    assert set(reminders) == {comms, commander, nobody}
    assert reminders[comms]["target"] == "U3"
    assert (reminders[comms]["commander"], reminders[comms]["comms"]) == ("U2", "U3")
    assert reminders[commander]["target"] == "U2"
    assert reminders[commander]["comms"] is None  # U9's comms role ended
    assert reminders[nobody]["target"] == "U1"  # nobody leads: the person who declared
    # Asked for a commander only where nobody holds the role now; never for a resolved incident.
    assert set(by_kind[JobKind.COMMANDER_REMINDER]) == {nobody}
    every = {number for per_kind in by_kind.values() for number in per_kind}
    assert resolved not in every and led not in every


def test_racing_ticks_record_each_reminder_once(uow_factory: SqlUnitOfWorkFactory) -> None:
    numbers = [add_incident(uow_factory, roles={"commander": "U2"}) for _ in range(4)]
    recorded = race(lambda: tick(uow=uow_factory, clock=Clock(), settings=CONFIG, lease=LEASE).job_ids)
    assert reminded(uow_factory, [job_id for ids in recorded for job_id in ids]) == numbers
