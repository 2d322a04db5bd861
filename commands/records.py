"""The records the commands read and write, as plain classes: the store maps them to its tables.

They know nothing of the database, so a command runs the same over the SQL store and an in-memory fake.
`id` (and a child's `incident_id`) stays None until the store assigns it: on insert, or on flush.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

# Typed as the int every stored record has; None only on a record not yet added.
UNSAVED = cast(int, None)


@dataclass(kw_only=True, eq=False)
class RoleAssignment:
    """Who holds a role; a handover ends the previous row instead of deleting it."""

    id: int = UNSAVED
    incident_id: int = UNSAVED
    role: str
    user_id: str
    assigned_by: str
    assigned_at: datetime
    ended_at: datetime | None = None


@dataclass(kw_only=True, eq=False)
class Incident:
    """One incident; `id` is the sequential number people see as INC-<id>."""

    id: int = UNSAVED
    title: str
    description: str = ""
    severity: str
    status: str
    private: bool = False
    channel_id: str | None = None
    channel_name: str | None = None
    declared_by: str
    declared_at: datetime
    declared_in: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution_summary: str | None = None
    provisioned_at: datetime | None = None
    last_update_at: datetime | None = None
    next_update_due_at: datetime | None = None
    reminders_since_update: int = 0
    commander_due_at: datetime | None = None
    # When retention last replaced this incident's pinned-message and note text; a later pin or note
    # clears it, so that text is pruned too.
    timeline_pruned_at: datetime | None = None
    incident_type: str | None = None  # None: the default type
    services: list[str] = field(default_factory=list)
    drill: bool = False
    impact: str | None = None  # high | medium | low, when the declarer answered it
    urgency: str | None = None
    duplicate_of: int | None = None  # resolved as a duplicate of this incident
    possible_duplicate_of: int | None = None  # looked like this one when declared
    stale_due_at: datetime | None = None  # when an open incident without human activity gets a nudge
    archive_due_at: datetime | None = None  # when a resolved incident's room is archived
    archived_at: datetime | None = None
    # Set at reopen: the shared postmortem draft no longer tells the whole story; the next resolve clears it.
    postmortem_outdated_at: datetime | None = None
    last_activity_at: datetime | None = None  # the latest human activity; None: none since declaring
    acknowledged_at: datetime | None = None  # see commands/milestones.py
    mitigated_at: datetime | None = None
    target_due_at: datetime | None = None  # the next target warning or breach owed (commands/targets.py)
    impact_started_at: datetime | None = None  # when impact began (commands/impact.py); None: not said
    detected_at: datetime | None = None  # when someone noticed it
    # The postmortem (commands/postmortem_owner.py): owner (None: the commander at resolve time), status
    # (None: draft), review day; when its owner's reminder and its daily refresh are due.
    postmortem_owner: str | None = None
    postmortem_status: str | None = None
    review_date: date | None = None
    postmortem_due_at: datetime | None = None
    postmortem_refresh_at: datetime | None = None
    # Every assignment ever made, oldest first: the ended ones are the handover history.
    roles: list[RoleAssignment] = field(default_factory=list)

    @property
    def ref(self) -> str:
        return f"INC-{self.id}"


@dataclass(frozen=True, slots=True)
class DuplicateCandidate:
    """What the duplicate check reads of a stored incident: a burst's commit reads up to 200 of them."""

    id: int
    title: str
    status: str
    private: bool
    drill: bool
    services: list[str]
    declared_at: datetime


@dataclass(frozen=True)
class ClaimedIncident:
    """What a reminder tick reads of an incident it claimed: a hundred of them cost no ORM objects."""

    id: int
    status: str
    severity: str
    declared_by: str
    last_update_at: datetime | None
    roles: dict[str, str]  # role -> user, the assignments still in force


@dataclass(kw_only=True, eq=False)
class TimelineEvent:
    """Something that happened during the incident, with who did it and when."""

    id: int = UNSAVED
    incident_id: int = UNSAVED
    kind: str
    actor: str | None = None
    text: str = ""
    occurred_at: datetime
    message_channel: str | None = None
    message_ts: str | None = None
    permalink: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True, eq=False)
class BotPost:
    """A message the bot has posted, recorded once so a retried step never posts it again."""

    id: int = UNSAVED
    incident_id: int
    purpose: str
    channel_id: str
    ts: str
    posted_at: datetime


@dataclass(kw_only=True, eq=False)
class SlackJob:
    """Durable intent to perform Slack side effects; steps already done are listed and never repeated."""

    id: int = UNSAVED
    kind: str
    incident_id: int
    payload: dict[str, Any] = field(default_factory=dict)
    done_steps: list[str] = field(default_factory=list)
    attempts: int = 0
    # None once finished: the sweeper only looks at work that is still owed.
    due_at: datetime | None = None
    claimed_until: datetime | None = None
    # The process holding the claim: it renews its leases on a timer and releases them when it stops.
    claimed_by: str | None = None
    last_error: str | None = None
    created_at: datetime
    finished_at: datetime | None = None


@dataclass(kw_only=True, eq=False)
class ActionItem:
    """Follow-up work agreed during or after the incident, for the postmortem."""

    id: int = UNSAVED
    incident_id: int = UNSAVED
    text: str
    owner: str | None = None
    created_by: str
    created_at: datetime
    due_at: datetime | None = None
    priority: str | None = None  # p1 | p2 | p3
    done_at: datetime | None = None  # None while open
    done_by: str | None = None
    remind_at: datetime | None = None  # the weekly reminder slot it is next sent to its owner in
    kind: str | None = None  # mitigate | prevent | process; None: untyped


@dataclass(kw_only=True, eq=False)
class ChecklistItem:
    """One item of the checklist posted at declaration (from the type and the severity); ticked or not."""

    id: int = UNSAVED
    incident_id: int = UNSAVED
    position: int
    text: str
    source: str
    done_by: str | None = None
    done_at: datetime | None = None


@dataclass(kw_only=True, eq=False)
class TrackerLink:
    """An action item's issue in a tracker, recorded the moment the tracker has it; checked until closed."""

    id: int = UNSAVED
    action_item_id: int
    incident_id: int
    tracker: str  # "github" | "jira": also the done_by of an item its closing finished
    key: str
    url: str
    state: str = "open"  # open | closed
    created_at: datetime
    next_check_at: datetime | None = None  # None once closed: the periodic check reads only due rows
    closed_at: datetime | None = None


@dataclass(kw_only=True, eq=False)
class Page:
    """One page target of one tier of one round: who or what was paged, and who acknowledged it.

    A page run (an incident's policy, or one direct page) shares a dedup key and a run number; the tier
    being waited on keeps its timer on its first row only, so one conditional UPDATE claims it once.
    """

    id: int = UNSAVED
    incident_id: int
    policy: str | None = None  # None: people paged directly
    dedup_key: str
    run: int = 1  # the n-th page of this dedup key on the incident
    round: int = 1
    tier: int = 1
    rounds: int = 1  # the rounds this run may reach: the policy's `repeat` + 1
    target: str  # a member ID, a user-group ID, or "pagerduty:<name>" / "opsgenie:<name>"
    paged_by: str | None = None  # None: paged by the bot (a severity's policy, a timeout)
    paged_at: datetime
    ack_due_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None  # a member ID, or the pager's display name of the person
    acknowledged_via: str | None = None  # slack | pagerduty | opsgenie
    closed_at: datetime | None = None  # acknowledged, unanswered to the end, or the incident resolved


@dataclass(frozen=True)
class AlertGroupState:
    """An alert group (source and group key) as last seen: its incident and which of its alerts fire."""

    incident_id: int | None
    # fingerprint -> the alert's name as shown in the timeline
    firing: dict[str, str]


@dataclass(kw_only=True, eq=False)
class DraftVersion:
    """A postmortem draft as uploaded (version 1, 2 ...): its bytes, what it showed, what changed."""

    incident_id: int
    version: int
    job_id: int  # the upload job that recorded it: a retried job finds it instead of adding another
    markdown: str
    snapshot: dict[str, Any] = field(default_factory=dict)
    changes: str = ""
    recorded_at: datetime


@dataclass(kw_only=True, eq=False)
class Publication:
    """A postmortem version committed to the repository: where, which commit, and when."""

    incident_id: int
    version: int
    path: str
    commit_sha: str
    commit_url: str
    html_url: str
    published_at: datetime
    job_id: int  # the job that committed it: only that job announces it in the room
