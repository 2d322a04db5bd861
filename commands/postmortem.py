"""Postmortem data: what a draft says about an incident, assembled once from its records, immutable."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import partial
from types import MappingProxyType
from typing import Any

from commands.activity import touched
from commands.declarer import is_person
from commands.feature import SLOW, Ask, Deps, JobResult, JobState, Recorded
from commands.incidents import Scheduled, incident_in_room
from commands.parsing import Postmortem
from commands.ports import Clock, IncidentSettings, UnitOfWorkFactory
from commands.postmortem_owner import postmortem_owner, postmortem_status
from commands.postmortem_steps import postmortem_job
from commands.publish import EVENT as PUBLISHED_EVENT
from commands.records import ActionItem, ChecklistItem, Incident, Page, RoleAssignment, TimelineEvent
from commands.targets import BREACH_EVENT, MILESTONES, reached
from commands.tracker_sync import closed_in
from commands.views import view_of
from commands.vocabulary import PostmortemStatus

Cadence = Callable[[str], timedelta]

# Mentions the bot itself writes into timeline text (`<@U1>`, `<!subteam^S1>`, `<#C1|name>`).
_MENTION = re.compile(
    r"<(@[UW][A-Z0-9]+|#C[A-Z0-9]+|!subteam\^[A-Z0-9]+|!here|!channel|!everyone)(?:\|([^<>]*))?>"
)
# Any Slack markup, found in pinned messages, which are stored as Slack sent them.
_MARKUP = re.compile(r"<([^<>]*)>")


_NO_NAMES: Mapping[str, str] = MappingProxyType({})

# The draft's action item groups, by the type set with `/incident action ... type prevent`.
ACTION_GROUPS: tuple[tuple[str | None, str], ...] = (
    ("mitigate", "Mitigate"),
    ("prevent", "Prevent"),
    ("process", "Process"),
    (None, "Other"),
)
_NO_TARGETS: Mapping[str, timedelta] = MappingProxyType({})


def _mention(match: re.Match[str], names: Mapping[str, str] = _NO_NAMES) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith("@") and not label and target[1:] in names:
        return "@" + names[target[1:]]
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!subteam^"):
        name = label or target[len("!subteam^") :]
        return name if name.startswith("@") else "@" + name
    if target.startswith("!"):
        return "@" + target[1:]
    return "@" + (label or target[1:])


def _markup(match: re.Match[str]) -> str:
    inner = match.group(1)
    mention = _MENTION.fullmatch(f"<{inner}>")
    if mention is not None:
        return _mention(mention)
    target, _, label = inner.partition("|")
    if target.startswith("!"):
        return "@" + (label or target[1:].split("^")[0])
    return f"{label} ({target})" if label and label != target else target


def readable(text: str, *, slack_markup: bool = False, names: Mapping[str, str] = _NO_NAMES) -> str:
    """Text as a person would read it: mentions become @name (or @id), and Slack's markup is unwrapped."""
    if not slack_markup:
        return _MENTION.sub(lambda m: _mention(m, names), text)
    text = _MARKUP.sub(_markup, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@dataclass(frozen=True)
class Entry:
    """One timeline event as recorded; `readable` is its text for people."""

    id: int
    kind: str
    occurred_at: datetime
    actor: str | None
    text: str
    permalink: str | None
    message_channel: str | None
    message_ts: str | None
    data: Mapping[str, Any]
    # Set once names are loaded, for the mentions in `text`.
    names: Mapping[str, str] = field(default_factory=dict)

    @property
    def readable(self) -> str:
        return readable(self.text, slack_markup=self.kind == "pinned", names=self.names)


@dataclass(frozen=True)
class SeverityPeriod:
    """A severity and from when (and on whose word) it was in force."""

    severity: str
    since: datetime
    by: str | None


@dataclass(frozen=True)
class RoleSpan:
    """Who held a role from when until when; a handover ends one span and starts the next."""

    role: str
    user: str
    assigned_by: str
    assigned_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class Update:
    """A stakeholder update as posted, and whether it went out within the cadence owed at the time."""

    occurred_at: datetime
    by: str | None
    text: str
    status: str
    severity: str
    cadence: timedelta
    due_by: datetime

    @property
    def within_cadence(self) -> bool:
        return self.occurred_at <= self.due_by


@dataclass(frozen=True)
class Pin:
    """A message somebody kept: its author, words, own time, link, and who pinned it."""

    occurred_at: datetime
    author: str | None
    text: str
    permalink: str | None
    pinned_by: str | None


@dataclass(frozen=True)
class Escalation:
    occurred_at: datetime
    by: str | None
    from_severity: str
    to_severity: str
    users: tuple[str, ...]
    groups: tuple[str, ...]
    paged: tuple[str, ...]

    @property
    def severity_changed(self) -> bool:
        return self.from_severity != self.to_severity


@dataclass(frozen=True)
class PageRow:
    """Who or what was paged, by which policy (None: directly), tier and round, and who acknowledged."""

    paged_at: datetime
    target: str
    policy: str | None
    tier: int
    round: int
    paged_by: str | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None  # a member ID (via slack), else the pager's display name
    acknowledged_via: str | None

    @property
    def is_person(self) -> bool:
        return self.target[:1] in ("U", "W", "S") and ":" not in self.target


@dataclass(frozen=True)
class ActionItemRow:
    id: int
    text: str
    owner: str | None
    created_by: str
    created_at: datetime
    due_at: datetime | None = None
    priority: str | None = None
    done_at: datetime | None = None
    done_by: str | None = None

    # Its issue in the tracker (commands/tracker_sync.py), read from the timeline: key and link.
    tracker_key: str | None = None
    tracker_url: str | None = None
    # The tracker that closed it (its issue was closed there), else None: done_by is then a person.
    done_in: str | None = None
    kind: str | None = None  # mitigate | prevent | process; None: untyped ("Other" in the draft)

    @property
    def done(self) -> bool:
        return self.done_at is not None

    @property
    def status(self) -> str:
        return "done" if self.done else "open"


@dataclass(frozen=True)
class ChecklistRow:
    """A checklist item as it stands: done by whom and when, or left undone."""

    position: int
    text: str
    source: str
    done_by: str | None
    done_at: datetime | None

    @property
    def done(self) -> bool:
        return self.done_at is not None


@dataclass(frozen=True)
class Milestones:
    """Declared; acknowledged (first page ack, else first commander); mitigated (first `monitoring` or
    `/incident mitigated`); resolved."""

    declared: datetime
    acknowledged: datetime | None
    mitigated: datetime | None
    resolved: datetime | None


def _between(start: datetime | None, end: datetime | None) -> timedelta | None:
    return end - start if start is not None and end is not None else None


@dataclass(frozen=True)
class Durations:
    """Time from declaration to each milestone, and from mitigation to resolution; None until both exist."""

    to_acknowledge: timedelta | None
    to_mitigate: timedelta | None
    to_resolve: timedelta | None
    mitigated_to_resolved: timedelta | None

    @classmethod
    def of(cls, m: Milestones) -> Durations:
        return cls(
            to_acknowledge=_between(m.declared, m.acknowledged),
            to_mitigate=_between(m.declared, m.mitigated),
            to_resolve=_between(m.declared, m.resolved),
            mitigated_to_resolved=_between(m.mitigated, m.resolved),
        )


@dataclass(frozen=True)
class TargetRow:
    """A target of the incident's severity (as it is now), from the declaration to its milestone."""

    name: str  # as configured: acknowledge_within, mitigate_within, resolve_within
    within: timedelta
    actual: timedelta | None  # declaration to the milestone; None while it is not reached
    met: bool | None  # None: not reached, and neither announced as missed nor past it at resolution

    @property
    def milestone(self) -> str:
        """The milestone's verb ("acknowledge"), for the draft's words."""
        return MILESTONES[self.name].verb


def _target_rows(
    incident: Incident, targets: Mapping[str, timedelta], timeline: Sequence[Entry]
) -> tuple[TargetRow, ...]:
    """Met when the milestone came within the target; missed when it came later, when the room was told
    it was missed, or when the incident was resolved past the target without it."""
    announced = {str(e.data.get("target")) for e in timeline if e.kind == BREACH_EVENT}
    rows = []
    for name, within in targets.items():
        done = reached(incident, name)
        actual = done - incident.declared_at if done is not None else None
        met: bool | None = actual <= within if actual is not None else None
        if actual is None and (name in announced or _resolved_past(incident, within)):
            met = False
        rows.append(TargetRow(name=name, within=within, actual=actual, met=met))
    return tuple(rows)


def _resolved_past(incident: Incident, within: timedelta) -> bool:
    return incident.resolved_at is not None and incident.resolved_at - incident.declared_at > within


@dataclass(frozen=True)
class PostmortemData:
    """Everything the draft and the JSON export say; built only from the incident's own records."""

    id: int
    title: str
    description: str
    status: str
    private: bool
    declared_by: str
    channel_id: str | None
    channel_name: str | None
    severity: str
    severity_history: tuple[SeverityPeriod, ...]
    resolved_by: str | None
    resolution_summary: str | None
    milestones: Milestones
    durations: Durations
    roles: tuple[RoleSpan, ...]
    timeline: tuple[Entry, ...]
    updates: tuple[Update, ...]
    pins: tuple[Pin, ...]
    escalations: tuple[Escalation, ...]
    action_items: tuple[ActionItemRow, ...]
    participants: tuple[str, ...]
    # user id -> name, for the people the draft mentions whose names Slack has told us (see people_in).
    names: Mapping[str, str] = field(default_factory=dict)
    checklist: tuple[ChecklistRow, ...] = ()  # in the order posted
    incident_type: str | None = None
    services: tuple[str, ...] = ()
    drill: bool = False  # a practice incident: kept out of metrics
    impact: str | None = None
    urgency: str | None = None
    targets: tuple[TargetRow, ...] = ()  # the current severity's, in milestone order
    pages: tuple[PageRow, ...] = ()  # oldest first
    # Detection and impact (commands/impact.py): None until someone records them.
    impact_started: datetime | None = None
    detected: datetime | None = None
    # Who owns the postmortem (commands/postmortem_owner.py), its status, and the review meeting's day.
    postmortem_owner: str | None = None
    postmortem_status: str = PostmortemStatus.DRAFT.value  # plain text: the front matter is YAML
    review_date: date | None = None

    @property
    def ref(self) -> str:
        return f"INC-{self.id}"

    @property
    def is_resolved(self) -> bool:
        return self.milestones.resolved is not None

    @property
    def updates_within_cadence(self) -> int:
        return sum(1 for u in self.updates if u.within_cadence)

    @property
    def checklist_done(self) -> tuple[ChecklistRow, ...]:
        return tuple(c for c in self.checklist if c.done)

    @property
    def checklist_undone(self) -> tuple[ChecklistRow, ...]:
        return tuple(c for c in self.checklist if not c.done)

    @property
    def time_to_detect(self) -> timedelta | None:
        """From impact starting to someone noticing it."""
        return _between(self.impact_started, self.detected)

    @property
    def impact_duration(self) -> timedelta | None:
        """From impact starting to its mitigation, else to the resolve."""
        return _between(self.impact_started, self.milestones.mitigated or self.milestones.resolved)

    @property
    def supporting_material(self) -> tuple[Pin, ...]:
        """Messages pinned during the incident that have a link to follow."""
        return tuple(p for p in self.pins if p.permalink)

    @property
    def action_item_groups(self) -> tuple[tuple[str, tuple[ActionItemRow, ...]], ...]:
        """Action items by type in ACTION_GROUPS order, untyped ones last ("Other"); no empty groups."""
        groups = []
        for kind, title in ACTION_GROUPS:
            rows = tuple(a for a in self.action_items if a.kind == kind)
            if rows:
                groups.append((title, rows))
        return tuple(groups)

    @property
    def initial_severity(self) -> str:
        return self.severity_history[0].severity if self.severity_history else self.severity


def _entry(e: TimelineEvent) -> Entry:
    return Entry(
        id=e.id,
        kind=e.kind,
        occurred_at=e.occurred_at,
        actor=e.actor,
        text=e.text,
        permalink=e.permalink,
        message_channel=e.message_channel,
        message_ts=e.message_ts,
        data=MappingProxyType(dict(e.data or {})),
    )


def _severity_history(incident: Incident, timeline: Sequence[Entry]) -> tuple[SeverityPeriod, ...]:
    changes = [e for e in timeline if e.kind == "severity_changed"]
    declared = next((e for e in timeline if e.kind == "declared"), None)
    first = (
        (declared.data.get("severity") if declared else None)
        or (changes[0].data.get("from") if changes else None)
        or incident.severity
    )
    history = [SeverityPeriod(str(first), incident.declared_at, incident.declared_by)]
    history += [SeverityPeriod(str(e.data.get("to")), e.occurred_at, e.actor) for e in changes]
    return tuple(history)


def _updates(
    timeline: Sequence[Entry], initial: str, declared_at: datetime, cadence: Cadence
) -> list[Update]:
    """Each update is owed by the due time the reminders used: one cadence after the declaration or the
    previous update, restarted from a severity change with the new severity's cadence (snoozes ignored)."""
    severity = initial
    due = declared_at + cadence(initial)
    updates: list[Update] = []
    for e in timeline:
        if e.kind == "severity_changed":
            severity = str(e.data.get("to") or severity)
            due = e.occurred_at + cadence(severity)
        elif e.kind == "update_posted":
            updates.append(
                Update(
                    occurred_at=e.occurred_at,
                    by=e.actor,
                    text=e.text,
                    status=str(e.data.get("status", "")),
                    severity=str(e.data.get("severity") or severity),
                    cadence=cadence(severity),
                    due_by=due,
                )
            )
            due = e.occurred_at + cadence(severity)
    return updates


def _participants(
    incident: Incident, timeline: Sequence[Entry], roles: Sequence[RoleSpan], items: Sequence[ActionItemRow]
) -> tuple[str, ...]:
    """Who declared, acted, held a role, wrote or pinned a message, or owns an action item; in order seen."""
    # An alerting system that declared is not a participant: people only.
    seen: dict[str, None] = {incident.declared_by: None} if is_person(incident.declared_by) else {}
    for e in timeline:
        also = e.data.get("user") if e.kind == "role_assigned" else e.data.get("pinned_by")
        for user in (e.actor, also if e.kind in ("role_assigned", "pinned") else None):
            if user and is_person(str(user)):
                seen.setdefault(str(user), None)
    for role in roles:
        seen.setdefault(role.user, None)
    for item in items:
        for user in (item.owner, item.created_by):
            if user:
                seen.setdefault(user, None)
    return tuple(seen)


def assemble(
    incident: Incident,
    events: Iterable[TimelineEvent],
    action_items: Iterable[ActionItem],
    cadence: Cadence,
    checklist: Iterable[ChecklistItem] = (),
    targets: Mapping[str, timedelta] = _NO_TARGETS,
    pages: Iterable[Page] = (),
) -> PostmortemData:
    """Build the postmortem data; `cadence` is the update interval configured for a severity, `targets`
    the incident's severity's targets."""
    events = list(events)  # read twice: the timeline and the action items' tracker links
    # Publishing a version must not make the draft outdated: it would differ from what was published.
    shown = (e for e in events if e.kind != PUBLISHED_EVENT)
    timeline = tuple(sorted((_entry(e) for e in shown), key=lambda e: (e.occurred_at, e.id)))
    roles = tuple(_role(r) for r in incident.roles)
    tracked = {e.data.get("item"): e.data for e in events if e.kind == "action_item_tracked"}
    items = tuple(
        ActionItemRow(
            id=i.id,
            text=i.text,
            owner=i.owner,
            created_by=i.created_by,
            created_at=i.created_at,
            due_at=i.due_at,
            priority=i.priority,
            done_at=i.done_at,
            done_by=i.done_by,
            tracker_key=tracked.get(i.id, {}).get("key"),
            tracker_url=tracked.get(i.id, {}).get("url"),
            done_in=closed_in(i.done_by),
            kind=i.kind if any(i.kind == k for k, _ in ACTION_GROUPS) else None,
        )
        for i in action_items
    )
    history = _severity_history(incident, timeline)
    milestones = Milestones(
        declared=incident.declared_at,
        acknowledged=incident.acknowledged_at,
        mitigated=incident.mitigated_at,
        resolved=incident.resolved_at,
    )
    return PostmortemData(
        incident_type=incident.incident_type,
        services=tuple(incident.services or ()),
        drill=bool(incident.drill),
        impact=incident.impact,
        urgency=incident.urgency,
        impact_started=incident.impact_started_at,
        detected=incident.detected_at,
        id=incident.id,
        title=incident.title,
        description=incident.description or "",
        status=incident.status,
        private=incident.private,
        declared_by=incident.declared_by,
        channel_id=incident.channel_id,
        channel_name=incident.channel_name,
        severity=incident.severity,
        severity_history=history,
        resolved_by=incident.resolved_by,
        resolution_summary=incident.resolution_summary,
        milestones=milestones,
        durations=Durations.of(milestones),
        roles=roles,
        timeline=timeline,
        updates=tuple(_updates(timeline, history[0].severity, incident.declared_at, cadence)),
        pins=tuple(
            Pin(
                occurred_at=e.occurred_at,
                author=e.actor,
                text=e.readable,
                permalink=e.permalink,
                pinned_by=e.data.get("pinned_by"),
            )
            for e in timeline
            if e.kind == "pinned"
        ),
        escalations=tuple(
            Escalation(
                occurred_at=e.occurred_at,
                by=e.actor,
                from_severity=str(e.data.get("from", "")),
                to_severity=str(e.data.get("to", "")),
                users=tuple(e.data.get("users") or ()),
                groups=tuple(e.data.get("groups") or ()),
                paged=tuple(e.data.get("paged") or ()),
            )
            for e in timeline
            if e.kind == "escalated"
        ),
        action_items=items,
        participants=_participants(incident, timeline, roles, items),
        checklist=tuple(
            ChecklistRow(
                position=c.position, text=c.text, source=c.source, done_by=c.done_by, done_at=c.done_at
            )
            for c in sorted(checklist, key=lambda c: c.position)
        ),
        targets=_target_rows(incident, targets, timeline),
        pages=tuple(
            PageRow(
                paged_at=p.paged_at,
                target=p.target,
                policy=p.policy,
                tier=p.tier,
                round=p.round,
                paged_by=p.paged_by,
                acknowledged_at=p.acknowledged_at,
                acknowledged_by=p.acknowledged_by,
                acknowledged_via=p.acknowledged_via,
            )
            for p in sorted(pages, key=lambda p: (p.paged_at, p.id))
        ),
        postmortem_owner=postmortem_owner(incident),
        postmortem_status=postmortem_status(incident),
        review_date=incident.review_date,
    )


def _role(r: RoleAssignment) -> RoleSpan:
    return RoleSpan(
        role=r.role, user=r.user_id, assigned_by=r.assigned_by, assigned_at=r.assigned_at, ended_at=r.ended_at
    )


def load_postmortem(
    incident_id: int, *, uow: UnitOfWorkFactory, settings: IncidentSettings
) -> PostmortemData | None:
    """Read one incident's records in one transaction; None when there is no such incident."""
    with uow() as tx:
        incident = tx.incidents.get(incident_id)
        if incident is None:
            return None
        pm = assemble(
            incident,
            tx.timeline.list_for(incident.id),
            tx.action_items.list_for(incident.id),
            settings.update_every,
            tx.checklist.list_for(incident.id),
            targets=settings.targets(incident.severity),
            pages=tx.pages.list_for(incident.id),
        )
        return with_names(pm, tx.people.names(people_in(pm)))


def with_names(pm: PostmortemData, names: Mapping[str, str]) -> PostmortemData:
    """The same data, showing these names for the people (and the mentions in timeline text)."""
    return replace(pm, names=names, timeline=tuple(replace(e, names=names) for e in pm.timeline))


def people_in(pm: PostmortemData) -> list[str]:
    """Every user the draft names: participants, who assigned roles, who was paged; in order seen."""
    seen = dict.fromkeys(pm.participants)
    for role in pm.roles:
        seen.setdefault(role.assigned_by, None)
    for escalation in pm.escalations:
        for user in (escalation.by, *escalation.paged):
            if user:
                seen.setdefault(user, None)
    for page in pm.pages:
        slack_ack = page.acknowledged_by if page.acknowledged_via == "slack" else None
        for user in (page.paged_by, page.target if page.is_person else None, slack_ack):
            if user and not user.startswith("S"):
                seen.setdefault(user, None)
    for pin in pm.pins:
        for user in (pin.author, pin.pinned_by):
            if user:
                seen.setdefault(user, None)
    for item in pm.checklist_done:
        if item.done_by:
            seen.setdefault(item.done_by, None)
    if pm.resolved_by:
        seen.setdefault(pm.resolved_by, None)
    if pm.postmortem_owner:
        seen.setdefault(pm.postmortem_owner, None)
    return list(seen)


def unnamed(pm: PostmortemData) -> list[str]:
    """People the draft would show as bare ids: the ones worth asking Slack about."""
    return [user for user in people_in(pm) if user not in pm.names and _looks_like_a_user(user)]


def remember_names(names: Mapping[str, str], *, uow: UnitOfWorkFactory) -> None:
    """Store names Slack told us, in one short transaction (never across the lookups)."""
    if names:
        with uow() as tx:
            tx.people.remember(names)
            tx.commit()


def _looks_like_a_user(user_id: str) -> bool:
    # Member ids start with U or W; anything else (a bot id, a group) is not for users.info.
    return user_id[:1] in ("U", "W")


def incident_ids(*, uow: UnitOfWorkFactory, since: datetime | None = None) -> list[int]:
    """Numbers of the incidents declared at or after `since` (all when None), oldest first."""
    with uow() as tx:
        return [i.id for i in tx.incidents.list_since(since)]


def request_postmortem(
    *,
    user_id: str,
    channel_id: str,
    uow: UnitOfWorkFactory,
    clock: Clock,
    settings: IncidentSettings,
    lease: timedelta,
) -> Scheduled:
    """Schedule a fresh draft upload for the room's incident, open or resolved.

    Raises NotInWarRoom.
    """
    now = clock.now()
    with uow() as tx:
        incident = incident_in_room(tx, channel_id)
        touched(incident, now, settings)
        job = tx.jobs.add(postmortem_job(incident.id, now, lease, requested_by=user_id))
        tx.commit()
        return Scheduled(view_of(incident, settings.severity_description(incident.severity)), job.id)


class PostmortemFeature:
    """`/incident postmortem`: a fresh draft of the room's incident, open or resolved, for its room."""

    name = "postmortem"
    answers_in_ack = False
    slow = SLOW

    def record(self, _cmd: Postmortem, ask: Ask, deps: Deps) -> Recorded:
        scheduled = request_postmortem(
            user_id=ask.user_id,
            channel_id=ask.room,
            uow=deps.uow,
            clock=deps.clock,
            settings=deps.settings,
            lease=deps.lease,
        )
        return Recorded(scheduled=scheduled, reply=partial(_draft_reply, scheduled.incident.ref))


def _draft_reply(ref: str, result: JobResult) -> str | None:
    if result.state is JobState.DONE:
        return f":memo: The postmortem draft for {ref} is in the war room."
    if result.state is JobState.PENDING:
        return f":hourglass: Slack is slow; I will post the postmortem draft for {ref} here soon."
    if result.state is JobState.QUEUED:
        return f":hourglass: The postmortem draft for {ref} is recorded and on its way here."
    return None  # given up: the person was told what went wrong and how to fix it


POSTMORTEM = PostmortemFeature()
