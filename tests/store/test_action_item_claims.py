"""Action items on every backend: Done and the weekly reminder claims act once across units of work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.ops.config import IncidentConfig
from commands import action_reminders
from commands.records import ActionItem
from store.models import Incident
from store.uow import SqlUnitOfWorkFactory
from tests.store.racing import race

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC
LEASE = timedelta(minutes=5)
CONFIG = IncidentConfig(action_reminders_at="mon 09:00")


class Clock:
    def now(self) -> datetime:
        return NOW


def seed(uow: SqlUnitOfWorkFactory, owners: list[str]) -> list[int]:
    """One incident with an overdue item per owner (two for the first), all due for a reminder now."""
    with uow() as tx:
        incident = Incident(
            title="Checkout down",
            severity="sev2",
            status="resolved",
            declared_by="U1",
            declared_at=NOW - timedelta(days=9),
        )
        tx.incidents.insert_many([incident])
        items = [
            ActionItem(
                incident_id=incident.id,
                text=f"Fix {n}",
                owner=owner,
                created_by="U1",
                created_at=NOW - timedelta(days=9),
                due_at=NOW - timedelta(days=2),
                remind_at=NOW,
            )
            for n, owner in enumerate([owners[0], *owners])
        ]
        for item in items:
            tx.action_items.add(item)
        tx.commit()
        return [item.id for item in items]


def test_done_is_recorded_once_across_units_of_work(uow_factory: SqlUnitOfWorkFactory) -> None:
    first_id, *_ = seed(uow_factory, ["U4"])
    with uow_factory() as first, uow_factory() as second:
        item = second.action_items.get(first_id)
        assert item is not None and item.done_at is None  # read before the other committed
        assert first.action_items.mark_done(first_id, "U2", NOW)
        first.commit()
        assert not second.action_items.mark_done(first_id, "U3", NOW + timedelta(seconds=1))
        assert (item.done_by, item.done_at) == ("U2", NOW), "the loser sees who won"
        second.commit()
    with uow_factory() as tx:
        assert tx.action_items.due_reminder_owners(NOW, 10) == ["U4"], "the other item is still due"


def test_interleaved_claims_send_each_owner_once(uow_factory: SqlUnitOfWorkFactory) -> None:
    seed(uow_factory, ["U4", "U2"])
    later = NOW + timedelta(days=7)
    with uow_factory() as first, uow_factory() as second:
        owners = first.action_items.due_reminder_owners(NOW, 10)
        assert sorted(owners) == ["U2", "U4"] and second.action_items.due_reminder_owners(NOW, 10) == owners
        claimed = first.action_items.claim_reminders(owners, NOW, later)
        assert sorted(str(i.owner) for i in claimed) == ["U2", "U4", "U4"]
        assert {i.remind_at for i in claimed} == {later}
        first.commit()
        assert second.action_items.claim_reminders(owners, NOW, later) == []
        second.commit()


def test_racing_ticks_record_one_dm_per_owner(uow_factory: SqlUnitOfWorkFactory) -> None:
    seed(uow_factory, ["U4", "U2", "U3"])
    jobs = race(
        lambda: action_reminders.tick(uow=uow_factory, clock=Clock(), settings=CONFIG, lease=LEASE).job_ids
    )
    with uow_factory() as tx:
        recorded = [tx.jobs.get(i) for batch in jobs for i in batch]
        owners = sorted(str(job.payload["owner"]) for job in recorded if job is not None)
    assert owners == ["U2", "U3", "U4"], jobs
