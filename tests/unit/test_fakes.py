"""The in-memory unit of work keeps the port's promises, so tests on it say something about the commands."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from commands.records import Incident, TimelineEvent
from tests.unit.fakes import FakeDatabase, same_state

NOW = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)


def incident(title: str = "A") -> Incident:
    return Incident(title=title, severity="sev2", status="investigating", declared_by="U1", declared_at=NOW)


def test_what_is_not_committed_is_discarded_and_sequences_move_on() -> None:
    db = FakeDatabase()
    with db() as tx:
        [first] = tx.incidents.insert_many([incident()])
    assert db.committed.incidents == {}
    with db() as tx:
        [second] = tx.incidents.insert_many([incident()])
        tx.commit()
    assert (first, second) == (1, 2)  # like a database sequence, a rolled-back id is not reused
    with pytest.raises(RuntimeError), db() as tx:
        found = tx.incidents.get(second)
        assert found is not None
        found.title = "changed"
        raise RuntimeError
    assert db.incident(second).title == "A"


def test_ids_of_events_come_with_the_flush_and_changes_after_a_commit_need_another() -> None:
    db = FakeDatabase()
    with db() as tx:
        [number] = tx.incidents.insert_many([incident()])
        event = tx.timeline.add(TimelineEvent(incident_id=number, kind="note", occurred_at=NOW))
        assert event.id is None
        tx.flush()
        assert event.id == 1
        tx.commit()
        event.text = "after the commit"
    assert db.events(number)[0].text == ""


def test_same_state_tells_a_change_apart() -> None:
    db = FakeDatabase()
    with db() as tx:
        tx.incidents.insert_many([incident()])
        tx.commit()
    before = db.snapshot()
    assert same_state(before, db.snapshot())
    with db() as tx:
        tx.deliveries.first_time("k", NOW)
        tx.commit()
    assert not same_state(before, db.snapshot())


def test_rows_of_an_unknown_incident_are_refused_like_a_foreign_key_would() -> None:
    db = FakeDatabase()
    with pytest.raises(AssertionError, match="unknown incidents"), db() as tx:
        tx.timeline.add(TimelineEvent(incident_id=9, kind="note", occurred_at=NOW))
        tx.commit()
