"""App Home's refresh on every backend: changes are read once across replicas, only the viewers
they touch are marked stale, each stale view is claimed once, and a change during a publish stays owed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from commands.records import ActionItem, Incident, RoleAssignment, TimelineEvent
from store.home import SqlHome
from store.uow import SqlUnitOfWorkFactory

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def event(uow: SqlUnitOfWorkFactory, incident_id: int, kind: str, actor: str) -> None:
    with uow() as tx:
        tx.timeline.add(
            TimelineEvent(incident_id=incident_id, kind=kind, actor=actor, text="", occurred_at=NOW)
        )
        tx.commit()


def incident(uow: SqlUnitOfWorkFactory, *, private: bool = False, role_holder: str | None = None) -> int:
    with uow() as tx:
        inc = Incident(
            title="Checkout down",
            severity="sev2",
            status="investigating",
            private=private,
            declared_by="U1",
            declared_at=NOW,
        )
        (number,) = tx.incidents.insert_many([inc])
        tx.commit()
    if role_holder:
        with uow() as tx:
            found = tx.incidents.get(number)
            assert found is not None
            found.roles.append(
                RoleAssignment(role="scribe", user_id=role_holder, assigned_by="U1", assigned_at=NOW)
            )
            tx.commit()
    return number


def test_changes_mark_only_the_viewers_they_touch(uow_factory: SqlUnitOfWorkFactory) -> None:
    uow = uow_factory
    home = SqlHome(uow.session_factory)
    for user in ("U1", "U2", "U3"):
        home.opened(user, NOW - timedelta(days=3))  # not recent: only what touches them refreshes them
    home.advance(NOW)  # the cursor starts here
    number = incident(uow, role_holder="U2")
    event(uow, number, "role_assigned", "U1")
    event(uow, number, "note", "U3")  # a note changes nobody's Home
    assert home.advance(NOW) == 2
    assert sorted(home.stale_users()) == ["U1", "U2"]
    assert home.advance(NOW) == 0, "each change is read once"


def test_a_public_declaration_refreshes_recent_viewers_and_a_private_one_only_members(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    uow = uow_factory
    home = SqlHome(uow.session_factory)
    home.opened("U3", NOW - timedelta(hours=2))
    home.opened("U4", NOW - timedelta(days=3))
    home.advance(NOW)
    secret = incident(uow, private=True)
    event(uow, secret, "declared", "U1")
    home.advance(NOW)
    assert home.stale_users() == [], "outsiders never hear of a private incident"
    public = incident(uow)
    event(uow, public, "declared", "U1")
    home.advance(NOW)
    assert home.stale_users() == ["U3"], "a recent viewer sees the new incident; an old one on next open"


def test_a_stale_view_is_claimed_once_and_a_change_during_the_publish_stays_owed(
    uow_factory: SqlUnitOfWorkFactory,
) -> None:
    uow = uow_factory
    home = SqlHome(uow.session_factory)
    home.opened("U2", NOW)
    home.advance(NOW)
    number = incident(uow)
    with uow() as tx:
        tx.action_items.add(
            ActionItem(incident_id=number, text="canary", owner="U2", created_by="U1", created_at=NOW)
        )
        tx.commit()
    event(uow, number, "action_item", "U1")
    home.advance(NOW)
    ((user, stale),) = home.claim_stale(NOW, LEASE, 10)
    assert user == "U2" and home.claim_stale(NOW, LEASE, 10) == [], "another replica finds it claimed"

    later = NOW + timedelta(seconds=5)
    event(uow, number, "action_item_done", "U2")
    home.advance(later)  # marked again while the first publish is in flight
    home.published("U2", NOW + timedelta(seconds=6), stale)
    assert home.stale_users() == ["U2"], "the newer change is still owed"
    ((_, again),) = home.claim_stale(later, LEASE, 10)
    home.published("U2", later, again)
    assert home.stale_users() == []


def test_a_failed_publish_is_retried_after_its_backoff(uow_factory: SqlUnitOfWorkFactory) -> None:
    uow = uow_factory
    home = SqlHome(uow.session_factory)
    home.opened("U1", NOW)
    home.advance(NOW)
    event(uow, incident(uow), "declared", "U1")
    home.advance(NOW)
    assert home.claim_stale(NOW, LEASE, 10)
    home.release("U1", NOW + timedelta(seconds=30))
    assert home.claim_stale(NOW + timedelta(seconds=10), LEASE, 10) == []
    assert [u for u, _ in home.claim_stale(NOW + timedelta(seconds=31), LEASE, 10)] == ["U1"]
