"""App Home: what one person's Home tab shows, who may see a private incident there, and whom a change
touches (so a refresh re-publishes only their views).

Private rooms: Slack would answer "is this person in the room?" only with a call per room on every open
(conversations.members is Tier 4 and paginated), so the Home tab decides from what the bot itself did:
a private incident is shown to its declarer and to anyone who holds or held one of its roles (the bot
invites both into the room). Anyone else, even if someone invited them by hand, does not see it there;
the rule can hide a room from a member, never show one to a non-member.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from commands.insights import Insights
from commands.records import ActionItem, Incident

# Changes (timeline kinds) that alter what someone's Home shows.
REFRESHING_KINDS = (
    "declared",
    "resolved",
    "reopened",
    "role_assigned",
    "action_item",
    "action_item_done",
)
# A public incident declared, resolved or reopened shows on everyone's Home: it is re-published for those
# who opened Home this recently (anyone else gets a fresh view the moment they open it, as always).
RECENT_VIEWERS = timedelta(days=1)
HOME_PERIOD = timedelta(days=30)
LIST_CHANGES = ("declared", "resolved", "reopened")


def may_see(incident: Incident, user_id: str) -> bool:
    """Whether the Home tab may show this incident (and link its room) to this person."""
    if not incident.private:
        return True
    return incident.declared_by == user_id or any(r.user_id == user_id for r in incident.roles)


def roles_held(incident: Incident, user_id: str) -> list[str]:
    """The roles this person holds now in the incident (handed-over ones are not theirs any more)."""
    return [r.role for r in incident.roles if r.user_id == user_id and r.ended_at is None]


@dataclass(frozen=True)
class OwnedItem:
    """One of the person's open action items, with the incident it belongs to."""

    item: ActionItem
    incident_ref: str
    overdue: bool


@dataclass(frozen=True)
class HomeData:
    """Everything one person's Home tab shows, read at `now`."""

    user_id: str
    now: datetime
    incidents: list[Incident]  # open ones this person may see, newest first
    roles: list[tuple[Incident, list[str]]]  # open incidents where they hold a role
    items: list[OwnedItem]  # their open action items, overdue first
    figures: Insights | None  # the last 30 days; None when they could not be read


def home_data(
    *,
    user_id: str,
    now: datetime,
    open_incidents: Sequence[Incident],
    items: Sequence[ActionItem],
    refs: dict[int, str],
    figures: Insights | None,
) -> HomeData:
    """Assemble what the person sees from what the store read (private incidents by `may_see`)."""
    visible = [i for i in open_incidents if may_see(i, user_id)]
    roles = [(i, held) for i in visible if (held := roles_held(i, user_id))]
    owned = [
        OwnedItem(item, refs.get(item.incident_id, f"INC-{item.incident_id}"), _overdue(item, now))
        for item in items
    ]
    owned.sort(key=lambda o: (not o.overdue, o.item.due_at or datetime.max.replace(tzinfo=now.tzinfo)))
    return HomeData(user_id, now, visible, roles, owned, figures)


def _overdue(item: ActionItem, now: datetime) -> bool:
    return item.due_at is not None and item.due_at < now


@dataclass(frozen=True)
class Change:
    """One recorded change the refresh read: its kind, who made it, and the incident it is about."""

    kind: str
    actor: str | None
    incident_id: int


@dataclass(frozen=True)
class Involved:
    """Who is tied to one incident: its declarer, its role holders (past and present), its item owners."""

    private: bool
    people: frozenset[str]


def affected(
    changes: Iterable[Change], involved: dict[int, Involved], recent_viewers: Iterable[str]
) -> set[str]:
    """Whose Home shows something these changes altered (before narrowing to who has opened it)."""
    users: set[str] = set()
    everyone = False
    for change in changes:
        tied = involved.get(change.incident_id)
        if change.actor:
            users.add(change.actor)
        if tied is None:
            continue
        users |= tied.people
        if change.kind in LIST_CHANGES and not tied.private:
            everyone = True
    if everyone:
        users |= set(recent_viewers)
    return users
