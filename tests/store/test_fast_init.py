"""The group commit's records (store/fast_init.py): built without per-field ORM events, the same records."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm.instrumentation import manager_of_class

from store.models import ChecklistItem, Incident, RoleAssignment, SlackJob, TimelineEvent
from store.uow import SqlUnitOfWorkFactory

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
FAST = (Incident, TimelineEvent, SlackJob, ChecklistItem)


ARGUMENTS: dict[type, dict[str, object]] = {
    Incident: {
        "title": "Checkout down",
        "severity": "sev2",
        "status": "investigating",
        "declared_by": "U1",
        "declared_at": NOW,
        "services": ["checkout"],
    },
    TimelineEvent: {"incident_id": 3, "kind": "note", "actor": "U1", "text": "hi", "occurred_at": NOW},
    SlackJob: {"kind": "provision", "incident_id": 3, "due_at": NOW, "created_at": NOW, "payload": {"a": 1}},
    ChecklistItem: {"incident_id": 3, "position": 0, "text": "Page the database team", "source": "sev2"},
}


def _fields(record: object) -> dict[str, object]:
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}  # type: ignore[arg-type]


def _the_orms_way(record: type, arguments: dict[str, object]) -> object:
    """Built as the ORM's instrumented constructor builds it: state, then the dataclass constructor."""
    manager = manager_of_class(record)
    built = record.__new__(record)
    manager._new_state_if_none(built)
    manager.original_init(built, **arguments)
    return built


@pytest.mark.parametrize("record", FAST, ids=lambda r: r.__name__)
def test_each_fast_record_holds_what_the_orms_constructor_would(record: type) -> None:
    fast, slow = record(**ARGUMENTS[record]), _the_orms_way(record, ARGUMENTS[record])
    assert _fields(fast) == _fields(slow)
    again = record(**ARGUMENTS[record])
    mutable = [
        f.name
        for f in dataclasses.fields(record)
        if f.default_factory is not dataclasses.MISSING and f.name not in ARGUMENTS[record]
    ]
    assert all(getattr(fast, name) is not getattr(again, name) for name in mutable), "a default is shared"


@pytest.mark.parametrize("record", FAST, ids=lambda r: r.__name__)
def test_wrong_arguments_are_refused_as_the_dataclass_refuses_them(record: type) -> None:
    with pytest.raises(TypeError, match="unexpected keyword arguments: bogus"):
        record(bogus=1)
    with pytest.raises(TypeError, match="missing required keyword arguments"):
        record()
    with pytest.raises(TypeError):
        record("positional")


def test_a_fast_record_with_roles_and_later_changes_is_saved_whole_by_the_orm(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    incident = Incident(
        title="Checkout down",
        severity="sev2",
        status="investigating",
        declared_by="U1",
        declared_at=NOW,
        roles=[RoleAssignment(role="commander", user_id="U2", assigned_by="U1", assigned_at=NOW)],
    )
    incident.services = ["checkout"]  # changed after construction, before it is added
    incident.roles.append(RoleAssignment(role="comms", user_id="U3", assigned_by="U1", assigned_at=NOW))
    with uow_factory() as uow:
        uow.incidents.add(incident)
        uow.commit()
    with uow_factory() as uow:
        stored = uow.incidents.get(incident.id)
        assert stored is not None
        assert (stored.title, stored.services, stored.declared_at) == ("Checkout down", ["checkout"], NOW)
        assert sorted((r.role, r.user_id) for r in stored.roles) == [("commander", "U2"), ("comms", "U3")]
