"""An incident with every kind of timeline text, for the retention and forget-user tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store.models import ActionItem, Incident, RoleAssignment, SlackJob, TimelineEvent
from store.uow import SqlUnitOfWorkFactory

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SECRET = "db password is hunter2"
PERMALINK = "https://example.slack.com/archives/C1/p1700000000000100"


def seed_incident(
    uow: SqlUnitOfWorkFactory,
    *,
    declared_at: datetime,
    resolved_after: timedelta | None = timedelta(hours=2),
    channel: str | None = None,
) -> int:
    """INC-n by U1: U2 commands and pins U3's message, U1 notes, U2 updates, adds an action, resolves."""
    at = declared_at
    resolved_at = at + resolved_after if resolved_after is not None else None
    with uow() as tx:
        incident = tx.incidents.add(
            Incident(
                title="Checkout is timing out",
                description="Card payments fail",
                severity="sev2",
                status="resolved" if resolved_at else "investigating",
                declared_by="U1",
                declared_at=at,
                channel_id=channel,
                channel_name=f"inc-{channel}" if channel else None,
                resolved_at=resolved_at,
                resolved_by="U2" if resolved_at else None,
                resolution_summary="U2 rolled back the deploy" if resolved_at else None,
                acknowledged_at=at + timedelta(minutes=1),
            )
        )
        n = incident.id
        incident.roles.append(
            RoleAssignment(
                role="commander", user_id="U2", assigned_by="U1", assigned_at=at + timedelta(minutes=1)
            )
        )

        def event(kind: str, actor: str | None, text: str, minutes: int, **extra: object) -> None:
            tx.timeline.add(
                TimelineEvent(
                    incident_id=n,
                    kind=kind,
                    actor=actor,
                    text=text,
                    occurred_at=at + timedelta(minutes=minutes),
                    **extra,
                )
            )

        event("declared", "U1", "Declared sev2: Checkout is timing out", 0, data={"severity": "sev2"})
        event("role_assigned", "U1", "Commander: <@U2>", 1, data={"role": "commander", "user": "U2"})
        event(
            "pinned",
            "U3",
            SECRET,
            2,
            message_channel=channel or "C1",
            message_ts="1700000000.000100",
            permalink=PERMALINK,
            data={"pinned_by": "U2", "pinned_at": (at + timedelta(minutes=3)).isoformat()},
        )
        event("note", "U1", "U3 says the <@U2> rollback is safe", 4, data={})
        event("update_posted", "U2", "Rolling back the deploy", 5, data={"status": "identified"})
        item = {"owner": "U3", "item": "Rotate the db password"}
        event("action_item", "U2", "Rotate the db password (owner <@U3>)", 6, data=item)
        if resolved_at is not None:
            event("resolved", "U2", "Resolved: U2 rolled back the deploy", 120)
        tx.action_items.add(
            ActionItem(
                incident_id=n,
                text="Rotate the db password",
                owner="U3",
                created_by="U2",
                created_at=at + timedelta(minutes=6),
            )
        )
        tx.jobs.add(
            SlackJob(
                kind="update",
                incident_id=n,
                created_at=at + timedelta(minutes=5),
                finished_at=at + timedelta(minutes=5),
                payload={"event_id": 0, "message": "Rolling back the deploy", "by": "U2"},
            )
        )
        tx.people.remember({"U1": "alice", "U2": "bob", "U3": "carol"})
        tx.commit()
        return n


def timeline_texts(uow: SqlUnitOfWorkFactory, incident_id: int) -> dict[str, str]:
    """Kind -> text of an incident's timeline (one entry of each kind is seeded)."""
    with uow() as tx:
        return {e.kind: e.text for e in tx.timeline.list_for(incident_id)}
