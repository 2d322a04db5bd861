"""Who sees what on Home, whom a change touches, and the view staying within Slack's limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.emulator.blocks import validate_view
from bot.render.home import home_view
from commands.home import Change, Involved, affected, home_data, may_see
from commands.records import ActionItem, Incident, RoleAssignment

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def incident(number: int, *, private: bool = False, title: str = "Checkout down") -> Incident:
    return Incident(
        id=number,
        title=title,
        severity="sev2",
        status="investigating",
        private=private,
        channel_id=f"C{number:08d}",
        declared_by="U1",
        declared_at=NOW,
    )


def test_a_private_incident_is_seen_by_its_declarer_and_role_holders_only() -> None:
    secret = incident(1, private=True)
    secret.roles.append(
        RoleAssignment(role="ops", user_id="U2", assigned_by="U1", assigned_at=NOW, ended_at=NOW)
    )
    assert may_see(secret, "U1") and may_see(secret, "U2"), "a handed-over role was still an invitation"
    assert not may_see(secret, "U3")
    assert may_see(incident(2), "U3")


def test_a_public_list_change_reaches_recent_viewers_a_role_change_only_those_involved() -> None:
    involved = {
        1: Involved(private=False, people=frozenset({"U1", "U2"})),
        2: Involved(True, frozenset({"U5"})),
    }
    assert affected([Change("role_assigned", "U1", 1)], involved, ["U9"]) == {"U1", "U2"}
    assert affected([Change("declared", "U1", 1)], involved, ["U9"]) == {"U1", "U2", "U9"}
    assert affected([Change("declared", "U5", 2)], involved, ["U9"]) == {"U5"}


def test_everything_long_still_fits_one_home_view() -> None:
    incidents = [incident(n, title="t" * 5000) for n in range(1, 300)]
    for inc in incidents:
        inc.roles.append(
            RoleAssignment(role="commander" * 30, user_id="U2", assigned_by="U1", assigned_at=NOW)
        )
    items = [
        ActionItem(
            id=n,
            incident_id=1,
            text="x" * 3000,
            owner="U2",
            created_by="U1",
            created_at=NOW,
            due_at=NOW - timedelta(days=1),
        )
        for n in range(1, 150)
    ]
    data = home_data(
        user_id="U2", now=NOW, open_incidents=incidents, items=items, refs={1: "INC-1"}, figures=None
    )
    view = home_view(data, UTC, notice="n" * 5000)
    validate_view(view)  # the emulator's copy of Slack's limits: raises on any breach
    text = str(view)
    assert (
        "and 269 more open incidents" in text and "and 119 more action items" in text and "more roles" in text
    )
