"""The operator's TOML config: severities, roles, statuses and channels, validated so typos fail loudly."""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from commands.due import WeeklySlot
from commands.limits import RateLimit
from commands.ports import EscalationPolicy, PolicyTier
from commands.publisher import check_path_template
from commands.vocabulary import IncidentStatus, Role

__all__ = [
    "DEFAULT_ROLES",
    "DEFAULT_SEVERITIES",
    "DEFAULT_STATUSES",
    "ConfigError",
    "IncidentConfig",
    "RetentionConfig",
    "RoleConfig",
    "SeverityConfig",
    "TrackersConfig",
    "effective_config_text",
    "format_duration",
    "load_config",
    "parse_duration",
]

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_PREFIX_RE = re.compile(r"^[a-z0-9-]{1,20}$")
_USER_ID_RE = re.compile(r"^[UW][A-Z0-9]+$")
_USERGROUP_ID_RE = re.compile(r"^S[A-Z0-9]+$")
_DURATION_RE = re.compile(r"^(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$")
_DURATION_HINT = "use forms like '90s', '15m', '1h', '1h30m' or '1d'"


class ConfigError(Exception):
    """A config problem worded for the operator: it names the file, the key path and what is wrong."""


def parse_duration(text: str) -> timedelta:
    """Turn '1h30m'-style text into a timedelta, because TOML has no duration type."""
    raw = text
    text = text.strip().lower().replace(" ", "")
    if text.startswith("-"):
        raise ValueError(f"duration {raw!r} must be positive")
    match = _DURATION_RE.match(text)
    if not text or match is None:
        raise ValueError(f"{raw!r} is not a duration; {_DURATION_HINT}")
    parts = {unit: int(value) for unit, value in match.groupdict().items() if value is not None}
    value = timedelta(
        days=parts.get("d", 0), hours=parts.get("h", 0), minutes=parts.get("m", 0), seconds=parts.get("s", 0)
    )
    if value <= timedelta(0):
        raise ValueError(f"duration {raw!r} must be positive")
    return value


def parse_rate(text: str) -> RateLimit:
    """Turn "5/1m" into a RateLimit: at most 5 in any 1-minute window."""
    count, slash, window = text.replace(" ", "").partition("/")
    if not slash or not count.isdigit() or int(count) < 1:
        raise ValueError(f"{text!r} is not a rate; write '<count>/<duration>', e.g. '5/1m'")
    return RateLimit(count=int(count), window=parse_duration(window))


def format_duration(value: timedelta, *, approximate: bool = False) -> str:
    """Exact by default, as operators write it ('1h30m', read back by parse_duration: config, postmortems).

    `approximate` says it the way people do in an incident, its two largest units: 2d 3h, 1h 5m, 4m, 30s.
    """
    total = max(int(value.total_seconds()), 0)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if approximate:
        if days:
            return f"{days}d {hours}h"
        if hours:
            return f"{hours}h {minutes}m"
        return f"{minutes}m" if minutes else f"{seconds}s"
    units = ((days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s"))
    return "".join(f"{amount}{unit}" for amount, unit in units if amount) or "0s"


def _check_name(value: str) -> str:
    """Names become channel-name fragments and bare TOML keys, so keep them to a safe alphabet."""
    if not _NAME_RE.match(value):
        raise ValueError(
            f"name {value!r} must be lowercase letters, digits or hyphens (starting with a letter/digit)"
        )
    return value


Name = Annotated[str, AfterValidator(_check_name)]


class _Strict(BaseModel):
    """Base for config models: unknown keys are errors and parsed config is not mutated by accident."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _positive_duration(value: Any, expected: str) -> timedelta:
    """A positive timedelta from a duration string (or a timedelta), or a ValueError saying what is wanted."""
    if isinstance(value, timedelta):
        if value <= timedelta(0):
            raise ValueError(f"duration {format_duration(value)!r} must be positive")
        return value
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError(f"expected {expected}, got {value!r}; {_DURATION_HINT}")


# The milestone targets a severity may set, in the order the milestones come.
TARGETS = ("acknowledge_within", "mitigate_within", "resolve_within")


class SeverityConfig(_Strict):
    """One severity level and how often the war room is nudged for an update."""

    # Optional: a severity's name often says enough ("sev1"); an empty one is simply not shown.
    description: str = ""
    update_every: timedelta
    # Reminders in a row without an update before the nudge escalates (DMs and an overdue line).
    escalate_after: int = Field(default=2, ge=1, le=100)
    # How long after declaring, with no commander, the room is asked for one.
    commander_timeout: timedelta = timedelta(minutes=10)
    # An open incident with no human activity this long gets a post asking to update or resolve it.
    stale_after: timedelta = timedelta(hours=24)
    # Posted in the room at declaration as checkboxes, after the type's items.
    checklist: list[str] = Field(default_factory=list)
    # Targets, from declaration: acknowledged (see commands/milestones.py), mitigated, resolved. None: none.
    acknowledge_within: timedelta | None = None
    mitigate_within: timedelta | None = None
    resolve_within: timedelta | None = None
    # The escalation policy paged automatically at declaration and on escalation to this severity.
    page: str | None = None

    @field_validator("update_every", "commander_timeout", "stale_after", mode="before")
    @classmethod
    def _parse_update_every(cls, value: Any) -> timedelta:
        """Accept only human duration strings so '900' is never silently read as seconds or minutes."""
        return _positive_duration(value, "a duration string")

    @field_validator(*TARGETS, mode="before")
    @classmethod
    def _parse_target(cls, value: Any) -> timedelta | None:
        """A target is a duration string too; leaving it out means the severity has none."""
        return None if value is None else _positive_duration(value, "a duration string")

    def targets(self) -> dict[str, timedelta]:
        """The targets this severity sets, by field name, in milestone order."""
        found = {name: getattr(self, name) for name in TARGETS}
        return {name: value for name, value in found.items() if value is not None}


class RoleConfig(_Strict):
    """A war-room role that people can be assigned to."""

    description: str = Field(min_length=1)


def _invitees(value: list[str]) -> list[str]:
    """People and user groups to invite, by ID: a name or @handle here would invite nobody."""
    for item in value:
        if not (_USER_ID_RE.match(item) or _USERGROUP_ID_RE.match(item)):
            raise ValueError(f"{item!r} is not a Slack user ID (U…) or user group ID (S…)")
    return value


def _checklist(value: list[str]) -> list[str]:
    """Checklist items are posted as checkboxes: short, and each one there."""
    for item in value:
        if not item.strip() or len(item) > 150:
            raise ValueError(f"checklist item {item!r} must be 1-150 characters")
    return value


Invitees = Annotated[list[str], AfterValidator(_invitees)]

_PAGER_TARGET_RE = re.compile(r"^(pagerduty|opsgenie):[a-z0-9-]+$")


def _notify(value: list[str]) -> list[str]:
    """A tier pages people, user groups and pager services, each by an ID or target the bot can use."""
    if not value:
        raise ValueError("must name at least one person, user group or pager target")
    for item in value:
        if not (_USER_ID_RE.match(item) or _USERGROUP_ID_RE.match(item) or _PAGER_TARGET_RE.match(item)):
            raise ValueError(
                f"{item!r} is not a Slack user ID (U…), user group ID (S…), 'pagerduty:<name>' or "
                "'opsgenie:<name>' (name: lowercase letters, digits, hyphens)"
            )
    return list(dict.fromkeys(value))


class TierConfig(_Strict):
    """One tier of an escalation policy: who is paged, and how long they have to acknowledge."""

    notify: Annotated[list[str], AfterValidator(_notify)]
    ack_within: timedelta

    @field_validator("ack_within", mode="before")
    @classmethod
    def _ack_within(cls, value: Any) -> timedelta:
        return _positive_duration(value, "a duration string")


class PolicyConfig(_Strict):
    """An escalation policy: tiers paged in order until someone acknowledges, `repeat` more rounds."""

    tiers: list[TierConfig] = Field(min_length=1, max_length=10)
    repeat: int = Field(default=0, ge=0, le=10)

    def policy(self, name: str) -> EscalationPolicy:
        tiers = tuple(PolicyTier(notify=tuple(t.notify), ack_within=t.ack_within) for t in self.tiers)
        return EscalationPolicy(name=name, tiers=tiers, repeat=self.repeat)


Checklist = Annotated[list[str], AfterValidator(_checklist)]


class TypeConfig(_Strict):
    """An incident type: what kind of incident, who joins its room, its checklist."""

    description: str = ""
    # Rooms of this type are private unless the declarer says otherwise (None: public, as by default).
    private: bool | None = None
    invite: Invitees = Field(default_factory=list)
    checklist: Checklist = Field(default_factory=list)
    drill: bool = False  # every incident of this type is a drill


class ServiceConfig(_Strict):
    """A service incidents can be declared for: its people are invited."""

    description: str = ""
    invite: Invitees = Field(default_factory=list)


class AlertsConfig(_Strict):
    """Declaring from Alertmanager and Grafana: which label gives the severity, and how its values map."""

    severity_label: str = Field(default="severity", min_length=1, max_length=100)
    # A label value (e.g. "critical") -> a configured severity; values equal to a severity's name need none.
    severity_map: dict[str, str] = Field(default_factory=dict)


LEVELS = ("high", "medium", "low")


class PriorityConfig(_Strict):
    """Impact x urgency -> severity (the ITSM priority matrix): each level maps urgency to a severity."""

    high: dict[str, str] = Field(default_factory=dict)
    medium: dict[str, str] = Field(default_factory=dict)
    low: dict[str, str] = Field(default_factory=dict)

    @field_validator("high", "medium", "low")
    @classmethod
    def _urgencies(cls, value: dict[str, str]) -> dict[str, str]:
        """Urgency is one of the same three levels as impact."""
        for urgency in value:
            if urgency not in LEVELS:
                raise ValueError(f"urgency {urgency!r} must be one of {', '.join(LEVELS)}")
        return value

    def severity(self, impact: str, urgency: str) -> str | None:
        return dict(getattr(self, impact, {}) or {}).get(urgency)

    def configured(self) -> bool:
        return bool(self.high or self.medium or self.low)


# "unassigned": anyone, while the incident has no commander (so somebody can take the role at all).
PERMISSION_SUBJECTS = ("anyone", "unassigned", "commander", "admins")
GUARDED_ACTIONS = ("resolve", "lower_severity", "assign_commander", "edit", "reopen", "duplicate")


class PermissionsConfig(_Strict):
    """Who may do the consequential things; each entry is a PERMISSION_SUBJECTS term or a role name."""

    resolve: list[str] = Field(default_factory=lambda: ["commander", "admins"])
    lower_severity: list[str] = Field(default_factory=lambda: ["commander", "admins"])
    # Taking or handing over command must be as hard as resolving, or it is the way around that rule.
    assign_commander: list[str] = Field(default_factory=lambda: ["unassigned", "commander", "admins"])
    # Changing what the incident is called or covers: whoever leads it, or anyone while nobody does.
    edit: list[str] = Field(default_factory=lambda: ["unassigned", "commander", "admins"])
    reopen: list[str] = Field(default_factory=lambda: ["commander", "admins"])
    duplicate: list[str] = Field(default_factory=lambda: ["unassigned", "commander", "admins"])

    @field_validator(*GUARDED_ACTIONS)
    @classmethod
    def _subjects(cls, value: list[str]) -> list[str]:
        """An empty list would lock everyone out of resolving, which no team wants by accident."""
        if not value:
            raise ValueError(f"must name at least one of {', '.join(PERMISSION_SUBJECTS)} or a role")
        for item in value:
            _check_name(item)
        return value


TIMELINE_ACTIONS = ("pin", "action")


DEFAULT_SEVERITIES: dict[str, SeverityConfig] = {
    "sev1": SeverityConfig(
        description="Critical: customer-facing outage", update_every=timedelta(minutes=15)
    ),
    "sev2": SeverityConfig(description="Major: degraded service", update_every=timedelta(minutes=30)),
    "sev3": SeverityConfig(description="Minor: limited impact", update_every=timedelta(hours=1)),
    "sev4": SeverityConfig(description="Low: no customer impact", update_every=timedelta(hours=4)),
}

DEFAULT_ROLES: dict[str, RoleConfig] = {
    "commander": RoleConfig(description="Leads the response and makes the calls."),
    "comms": RoleConfig(description="Writes stakeholder updates."),
    "scribe": RoleConfig(description="Keeps the timeline."),
    "ops": RoleConfig(description="Hands on keyboard: investigates and fixes."),
}

DEFAULT_STATUSES: tuple[str, ...] = ("investigating", "identified", "monitoring", "resolved")

FOREVER = "forever"


def _retention_period(value: Any) -> timedelta | None:
    """A duration, or "forever" (None): a bare number would leave the unit to guesswork."""
    if value is None or (isinstance(value, str) and value.strip().lower() == FOREVER):
        return None
    return _positive_duration(value, f'"{FOREVER}" or a duration string')


class RetentionConfig(_Strict):
    """How long the bot keeps what it no longer needs: copies of people's words, finished Slack work."""

    # After an incident is resolved, how long the text of its pinned messages and notes is kept
    # (None: for ever). Then the text is replaced; who, when, links and the rest of the record stay.
    timeline_text: timedelta | None = None
    # How long a finished Slack job (its payload, its last error) is kept for troubleshooting.
    finished_jobs: timedelta | None = timedelta(days=30)

    @field_validator("timeline_text", "finished_jobs", mode="before")
    @classmethod
    def _period(cls, value: Any) -> timedelta | None:
        """Durations read as everywhere else in the file, plus "forever" for keeping everything."""
        return _retention_period(value)


_REPO_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def _github_repo(value: str) -> str:
    if not _REPO_RE.match(value):
        raise ValueError(f'repo must be "owner/name", got {value!r}')
    return value


# A GitHub repository as "owner/name": the tracker's and the publisher's.
GitHubRepo = Annotated[str, AfterValidator(_github_repo)]
_JIRA_PROJECT_RE = re.compile(r"^[A-Z][A-Z0-9_]{1,9}$")


def _check_every(value: Any) -> timedelta:
    every = _positive_duration(value, "a duration string")
    if every < timedelta(minutes=1):
        raise ValueError(
            "check_every must be at least 1m: each check is one call to the tracker per open issue"
        )
    return every


class GitHubTrackerConfig(_Strict):
    """Issues in one GitHub repository; the token comes from INCIDENTBOT_GITHUB_TOKEN."""

    repo: GitHubRepo
    labels: list[str] = Field(default_factory=list)
    check_every: timedelta = timedelta(minutes=10)

    @field_validator("check_every", mode="before")
    @classmethod
    def _every(cls, value: Any) -> timedelta:
        return _check_every(value)


class JiraTrackerConfig(_Strict):
    """Issues in one Jira Cloud project; credentials come from INCIDENTBOT_JIRA_EMAIL and _TOKEN."""

    site: str  # e.g. "https://acme.atlassian.net"
    project: str
    issue_type: str = "Task"
    labels: list[str] = Field(default_factory=list)
    check_every: timedelta = timedelta(minutes=10)

    @field_validator("site")
    @classmethod
    def _site(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError(f"site must be the site's URL, e.g. https://acme.atlassian.net, got {value!r}")
        return value.rstrip("/")

    @field_validator("project")
    @classmethod
    def _project(cls, value: str) -> str:
        if not _JIRA_PROJECT_RE.match(value):
            raise ValueError(f"project must be a Jira project key such as OPS, got {value!r}")
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: list[str]) -> list[str]:
        for label in value:
            if not label or any(c.isspace() for c in label):
                raise ValueError(f"Jira labels cannot contain spaces, got {label!r}")
        return value

    @field_validator("check_every", mode="before")
    @classmethod
    def _every(cls, value: Any) -> timedelta:
        return _check_every(value)


class TrackersConfig(_Strict):
    """Where action items become issues: at most one tracker, so each item has one issue to close."""

    github: GitHubTrackerConfig | None = None
    jira: JiraTrackerConfig | None = None

    @model_validator(mode="after")
    def _one(self) -> TrackersConfig:
        if self.github is not None and self.jira is not None:
            raise ValueError("configure at most one tracker: [trackers.github] or [trackers.jira], not both")
        return self

    @property
    def active(self) -> GitHubTrackerConfig | JiraTrackerConfig | None:
        return self.github or self.jira


class GitHubPublishConfig(_Strict):
    """Published postmortems committed to one GitHub repository and branch (bot/publishers/github.py).

    The token is INCIDENTBOT_GITHUB_TOKEN (shared with [trackers.github]); `api_url` defaults to
    INCIDENTBOT_GITHUB_URL. The branch is named, never guessed: a missing one is a clear refusal.
    """

    repo: GitHubRepo
    branch: str = "main"
    path: str = "postmortems/{year}/{ref}-{slug}.md"
    api_url: str | None = None
    # Private incidents are published only when this says so; otherwise the room is told why not.
    private: bool = False

    @field_validator("branch")
    @classmethod
    def _branch(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9._/-]{1,200}", value) or ".." in value or value.startswith("/"):
            raise ValueError(f"branch must be a branch name such as 'main', got {value!r}")
        return value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        return check_path_template(value)

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"api_url must be an http(s) URL, got {value!r}")
        return value


class PublishConfig(_Strict):
    """Where published postmortems are kept; nothing is published when no section is set."""

    github: GitHubPublishConfig | None = None


class IncidentConfig(_Strict):
    """The whole validated config; dict order of severities is their rank, most severe first."""

    announce_channel: str = "incidents"
    channel_prefix: str = "inc"
    timezone: str = "UTC"
    templates_dir: Path | None = None
    admins: list[str] = Field(default_factory=list)
    admin_group: str | None = None
    severities: dict[Name, SeverityConfig] = Field(default_factory=lambda: dict(DEFAULT_SEVERITIES))
    roles: dict[Name, RoleConfig] = Field(default_factory=lambda: dict(DEFAULT_ROLES))
    statuses: list[str] = Field(default_factory=lambda: list(DEFAULT_STATUSES))
    permissions: PermissionsConfig = Field(default_factory=PermissionsConfig)
    # Reaction name (without colons) -> what it does to the reacted message in a war room.
    timeline_reactions: dict[str, str] = Field(default_factory=lambda: {"pushpin": "pin"})
    # One escalate may page at most this many people (named, plus the members of named groups).
    max_paged_per_command: int = Field(default=50, ge=1, le=1000)
    # "<count>/<duration>": declares one person may make in any such window, across every replica.
    declare_rate_limit: str = "5/1m"
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    # Triage: incident types ("default" applies when none is given), services, impact x urgency.
    types: dict[Name, TypeConfig] = Field(default_factory=dict)
    services: dict[Name, ServiceConfig] = Field(default_factory=dict)
    priority: PriorityConfig = Field(default_factory=PriorityConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    # Rename the room when the title is edited (Slack keeps the old name searchable as a redirect).
    rename_rooms: bool = False
    # Drill rooms are named <drill_prefix>-<n>-<slug>.
    drill_prefix: str = "drill"
    # After resolution, the room is archived this long later (with a notice first).
    archive_after: timedelta = timedelta(days=7)
    # A postmortem still in draft this long after the resolve earns its owner a reminder (a DM).
    postmortem_due: timedelta = timedelta(days=5)
    # Action items become issues in at most one tracker (commands/tracker_sync.py).
    trackers: TrackersConfig = Field(default_factory=TrackersConfig)
    # When owners get their weekly DM of overdue action items: a weekday and a time in `timezone`.
    action_reminders_at: str = "mon 09:00"
    # Published postmortems are committed to a repository ([publish.github]; commands/publish.py).
    publish: PublishConfig = Field(default_factory=PublishConfig)

    @field_validator("action_reminders_at")
    @classmethod
    def _action_reminders_at(cls, value: str) -> str:
        """A weekday and a time, checked at load time rather than at the first reminder."""
        WeeklySlot.parse(value)
        return value

    def action_reminder_slot(self) -> WeeklySlot:
        """The weekly slot of the overdue action items' reminders."""
        return WeeklySlot.parse(self.action_reminders_at)

    # The weekly digest of the last 7 days' figures and charts (commands/digest.py): the channel (name
    # or id; unset: no digest) and a weekday and a time in `timezone`.
    digest_channel: str | None = None
    digest_at: str = "mon 09:00"

    @field_validator("digest_at")
    @classmethod
    def _digest_at(cls, value: str) -> str:
        """A weekday and a time, checked at load time rather than when the first digest is due."""
        WeeklySlot.parse(value)
        return value

    @field_validator("digest_channel")
    @classmethod
    def _digest_channel(cls, value: str | None) -> str | None:
        """A channel name (with or without #) or id; an empty string means no digest."""
        if value is None or not value.strip():
            return None
        name = value.strip()
        if not re.fullmatch(r"#?[a-z0-9_-]{1,80}|[CG][A-Z0-9]{2,}", name):
            raise ValueError(
                f"{value!r} is not a Slack channel name (lowercase, like 'incident-digest') or id"
            )
        return name

    def digest_slot(self) -> WeeklySlot:
        """When the weekly digest is posted."""
        return WeeklySlot.parse(self.digest_at)

    # Paging: the policies `/incident page` and severities' `page` name, and how long a person paged
    # directly (`/incident page @someone`) has to acknowledge before the room is told.
    escalation_policies: dict[Name, PolicyConfig] = Field(default_factory=dict)
    page_ack_within: timedelta = timedelta(minutes=5)

    @field_validator("archive_after", "page_ack_within", "postmortem_due", mode="before")
    @classmethod
    def _archive_after(cls, value: Any) -> timedelta:
        return _positive_duration(value, "a duration string")

    @field_validator("escalation_policies")
    @classmethod
    def _policy_names(cls, value: dict[str, PolicyConfig]) -> dict[str, PolicyConfig]:
        """A policy's name is part of its pager dedup key and of each page row (80 characters)."""
        for name in value:
            if len(name) > 60:
                raise ValueError(f"policy name {name!r} is longer than 60 characters")
        return value

    @model_validator(mode="after")
    def _severity_policies_exist(self) -> IncidentConfig:
        """A severity paging a policy that does not exist would page nobody when it matters most."""
        for name, severity in self.severities.items():
            if severity.page is not None and severity.page not in self.escalation_policies:
                known = ", ".join(self.escalation_policies) or "none are configured"
                raise ValueError(
                    f"severities.{name}.page: {severity.page!r} is not an escalation policy ({known})"
                )
        return self

    @field_validator("types")
    @classmethod
    def _type_names(cls, value: dict[str, TypeConfig]) -> dict[str, TypeConfig]:
        """Each incident records its type's name in a 40-character column."""
        for name in value:
            if len(name) > 40:
                raise ValueError(f"type name {name!r} is longer than 40 characters")
        return value

    @field_validator("drill_prefix")
    @classmethod
    def _drill_prefix(cls, value: str) -> str:
        """Drill rooms must be told apart from real ones at a glance, and be valid channel names."""
        if not _PREFIX_RE.match(value):
            raise ValueError(f"{value!r} must be 1-20 characters of lowercase letters, digits or hyphens")
        return value

    @field_validator("announce_channel")
    @classmethod
    def _announce_channel(cls, value: str) -> str:
        """Allow '#incidents' as people type it, but store the bare name or ID Slack expects."""
        value = value.removeprefix("#").strip()
        if not value:
            raise ValueError("must name a channel (name or ID)")
        return value

    @field_validator("channel_prefix")
    @classmethod
    def _channel_prefix(cls, value: str) -> str:
        """Slack channel names are lowercase and short, and the prefix must leave room for the rest."""
        if not _PREFIX_RE.match(value):
            raise ValueError(f"{value!r} must be 1-20 characters of lowercase letters, digits or hyphens")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        """Reject unknown zones at load time rather than when the first timestamp is rendered."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"{value!r} is not a known IANA time zone (e.g. 'UTC', 'Europe/Berlin')"
            ) from exc
        return value

    @field_validator("admins")
    @classmethod
    def _admins(cls, value: list[str]) -> list[str]:
        """Admins are matched by Slack user ID, so a name or @mention here would never match anyone."""
        for item in value:
            if not _USER_ID_RE.match(item):
                raise ValueError(f"{item!r} is not a Slack user ID (like 'U0123ABCD')")
        return value

    @field_validator("admin_group")
    @classmethod
    def _admin_group(cls, value: str | None) -> str | None:
        """The group is looked up with usergroups.users.list, which needs the ID, not the handle."""
        if value is not None and not _USERGROUP_ID_RE.match(value):
            raise ValueError(f"{value!r} is not a Slack user group ID (like 'S0123ABCD')")
        return value

    @field_validator("severities")
    @classmethod
    def _severities(cls, value: dict[str, SeverityConfig]) -> dict[str, SeverityConfig]:
        """An incident always needs some severity to be declared with."""
        if not value:
            raise ValueError("at least one severity is required")
        return value

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: dict[str, RoleConfig]) -> dict[str, RoleConfig]:
        """The commander role carries the resolve/downgrade rights, so it cannot be configured away."""
        if Role.COMMANDER not in value:
            raise ValueError("a 'commander' role is required")
        reserved = sorted(set(value) & (set(PERMISSION_SUBJECTS) - {Role.COMMANDER}))
        if reserved:
            raise ValueError(f"{reserved[0]!r} is a permissions term and cannot name a role")
        return value

    @field_validator("declare_rate_limit")
    @classmethod
    def _declare_rate_limit(cls, value: str) -> str:
        """Parsed now so a typo fails at config check, not at the first declare."""
        parse_rate(value)
        return value

    @model_validator(mode="after")
    def _alert_severities_exist(self) -> IncidentConfig:
        """A mapped alert severity must be a configured one, or every such alert would be refused."""
        for value, severity in self.alerts.severity_map.items():
            if severity not in self.severities:
                known = ", ".join(self.severities)
                raise ValueError(
                    f"alerts.severity_map: {value!r} maps to unknown severity {severity!r} (known: {known})"
                )
        return self

    @field_validator("timeline_reactions")
    @classmethod
    def _timeline_reactions(cls, value: dict[str, str]) -> dict[str, str]:
        """Only actions the bot knows can be mapped, so a typo fails at config check, not mid-incident."""
        for emoji, action in value.items():
            if action not in TIMELINE_ACTIONS:
                raise ValueError(
                    f"{emoji!r} maps to unknown action {action!r}; use one of {TIMELINE_ACTIONS}"
                )
        return {emoji.strip(":"): action for emoji, action in value.items()}

    @model_validator(mode="after")
    def _priority_severities_exist(self) -> IncidentConfig:
        """A matrix cell naming an unknown severity would declare incidents nobody can triage."""
        for impact in LEVELS:
            for urgency, severity in getattr(self.priority, impact).items():
                if severity not in self.severities:
                    raise ValueError(
                        f"priority.{impact}.{urgency}: {severity!r} is not a severity "
                        f"({', '.join(self.severities)})"
                    )
        return self

    @model_validator(mode="after")
    def _permission_roles_exist(self) -> IncidentConfig:
        """A permission naming a role that does not exist would silently grant nothing."""
        known = set(PERMISSION_SUBJECTS) | set(self.roles)
        for name in GUARDED_ACTIONS:
            for subject in getattr(self.permissions, name):
                if subject not in known:
                    raise ValueError(
                        f"permissions.{name}: {subject!r} is not {', '.join(PERMISSION_SUBJECTS)} or a role"
                    )
        return self

    @field_validator("statuses")
    @classmethod
    def _statuses(cls, value: list[str]) -> list[str]:
        """The lifecycle logic starts incidents at 'investigating' and closes them at 'resolved'."""
        for item in value:
            _check_name(item)
        if len(set(value)) != len(value):
            raise ValueError("statuses must not repeat")
        if len(value) < 2 or value[0] != IncidentStatus.INVESTIGATING or value[-1] != IncidentStatus.RESOLVED:
            raise ValueError("statuses must start with 'investigating' and end with 'resolved'")
        return value

    def severity_names(self) -> list[str]:
        """Severity names in rank order, most severe first."""
        return list(self.severities)

    def rank(self, name: str) -> int:
        """Position of a severity, 0 being the most severe; comparing ranks answers 'is this worse?'."""
        try:
            return self.severity_names().index(name)
        except ValueError:
            raise KeyError(f"unknown severity {name!r}; known: {', '.join(self.severities)}") from None

    def severity_description(self, name: str) -> str:
        """Description of a severity; empty for a name no longer configured, so old incidents still render."""
        severity = self.severities.get(name)
        return severity.description if severity is not None else ""

    def update_every(self, severity: str) -> timedelta:
        """Stakeholder-update cadence; an unconfigured (retired) severity uses the least severe one's."""
        return self.severities.get(severity, self.severities[self.default_severity]).update_every

    def commander_timeout(self, severity: str) -> timedelta:
        return self.severities.get(severity, self.severities[self.default_severity]).commander_timeout

    def escalate_after(self, severity: str) -> int:
        return self.severities.get(severity, self.severities[self.default_severity]).escalate_after

    def role_description(self, role: str) -> str:
        found = self.roles.get(role)
        return found.description if found is not None else ""

    def allowed_to(self, action: str) -> list[str]:
        """Who may perform a guarded action (one of GUARDED_ACTIONS)."""
        return list(getattr(self.permissions, action))

    def type_names(self) -> list[str]:
        return list(self.types)

    def service_names(self) -> list[str]:
        return list(self.services)

    def type_of(self, name: str | None) -> str | None:
        """The type a declaration gets: the one named, else `default` when configured, else none."""
        if name is not None:
            return name
        return "default" if "default" in self.types else None

    def type_private(self, name: str | None) -> bool:
        """Whether rooms of this type are private (there is no `--public`: a private type always is)."""
        found = self.types.get(name) if name is not None else None
        return bool(found is not None and found.private)

    def type_drill(self, name: str | None) -> bool:
        found = self.types.get(name) if name is not None else None
        return found is not None and found.drill

    def invitees(self, incident_type: str | None, services: Sequence[str]) -> list[str]:
        """Member and user-group IDs to invite at declaration: the type's, then each service's, once each."""
        found = self.types.get(incident_type) if incident_type is not None else None
        wanted = list(found.invite) if found is not None else []
        for name in services:
            service = self.services.get(name)
            if service is not None:
                wanted += service.invite
        return list(dict.fromkeys(wanted))

    def priority_severity(self, impact: str | None, urgency: str | None) -> str | None:
        """The severity impact x urgency maps to, when both are answered and the matrix has the cell."""
        if impact is None or urgency is None or impact not in LEVELS or urgency not in LEVELS:
            return None
        return self.priority.severity(impact, urgency)

    def targets(self, severity: str) -> dict[str, timedelta]:
        """The severity's milestone targets (acknowledge_within, mitigate_within, resolve_within) it sets."""
        return self.severities.get(severity, self.severities[self.default_severity]).targets()

    def stale_after(self, severity: str) -> timedelta:
        return self.severities.get(severity, self.severities[self.default_severity]).stale_after

    def checklist(self, incident_type: str | None, severity: str) -> list[tuple[str, str]]:
        """The items posted at declaration, with where each came from: the type's (`[types.default]`'s
        when none is given), then the severity's."""
        name = incident_type or "default"
        kind = self.types.get(name)
        items = [(text, f"type:{name}") for text in kind.checklist] if kind is not None else []
        level = self.severities.get(severity)
        items += [(text, f"severity:{severity}") for text in level.checklist] if level is not None else []
        return items

    def policy_names(self) -> list[str]:
        return list(self.escalation_policies)

    def escalation_policy(self, name: str) -> EscalationPolicy | None:
        found = self.escalation_policies.get(name)
        return found.policy(name) if found is not None else None

    def severity_page(self, severity: str) -> str | None:
        found = self.severities.get(severity)
        return found.page if found is not None else None

    def alert_severity(self, value: str | None) -> str:
        """The severity an alert's label value asks for: a severity's own name, else `[alerts.severity_map]`,
        else the default."""
        if value:
            wanted = value.strip()
            for name in self.severities:
                if name.lower() == wanted.lower():
                    return name
            mapped = self.alerts.severity_map.get(wanted) or self.alerts.severity_map.get(wanted.lower())
            if mapped is not None:
                return mapped
        return self.default_severity

    @property
    def alert_severity_label(self) -> str:
        return self.alerts.severity_label

    def declare_limit(self) -> RateLimit:
        """How many declares one person may make per window."""
        return parse_rate(self.declare_rate_limit)

    @property
    def default_severity(self) -> str:
        """The least severe level, used when someone declares without choosing."""
        return self.severity_names()[-1]

    @property
    def tracker_name(self) -> str | None:
        """The configured tracker ("github", "jira"), or None: action items stay in Slack."""
        if self.trackers.github is not None:
            return "github"
        return "jira" if self.trackers.jira is not None else None

    @property
    def tracker_labels(self) -> list[str]:
        active = self.trackers.active
        return list(active.labels) if active is not None else []

    @property
    def tracker_check_every(self) -> timedelta:
        active = self.trackers.active
        return active.check_every if active is not None else timedelta(minutes=10)

    @property
    def publish_path(self) -> str | None:
        """The path template of published postmortems; None: publishing is not configured."""
        github = self.publish.github
        return github.path if github is not None else None

    @property
    def publish_private(self) -> bool:
        """Whether private incidents' postmortems are published too."""
        github = self.publish.github
        return github.private if github is not None else False

    @property
    def zone(self) -> ZoneInfo:
        """The configured zone as an object, for rendering times to people."""
        return ZoneInfo(self.timezone)


def _format_loc(loc: tuple[int | str, ...]) -> str:
    """Join pydantic's error location into the dotted key path an operator would write in TOML."""
    parts: list[str] = []
    for item in loc:
        if item == "[key]":
            continue
        parts.append(f"[{item}]" if isinstance(item, int) else str(item))
    path = ".".join(parts).replace(".[", "[")
    return path or "(top level)"


_TOP_LEVEL_KEYS = tuple(IncidentConfig.model_fields)


def _unknown_key_hint(loc: tuple[int | str, ...]) -> str:
    """Suggest the likely intended key, since most unknown keys are typos or misplaced lines."""
    key = str(loc[-1])
    if len(loc) > 1 and key in _TOP_LEVEL_KEYS:
        return f" (top-level '{key}' must come before the first [table] in the file)"
    if len(loc) == 1:
        known: tuple[str, ...] = _TOP_LEVEL_KEYS
    elif len(loc) == 3 and loc[0] == "severities":
        known = tuple(SeverityConfig.model_fields)
    elif len(loc) == 3 and loc[0] == "roles":
        known = tuple(RoleConfig.model_fields)
    elif len(loc) == 2 and loc[0] == "retention":
        known = tuple(RetentionConfig.model_fields)
    elif len(loc) == 3 and loc[0] == "types":
        known = tuple(TypeConfig.model_fields)
    elif len(loc) == 3 and loc[0] == "services":
        known = tuple(ServiceConfig.model_fields)
    elif len(loc) == 2 and loc[0] == "priority":
        known = LEVELS
    elif len(loc) == 3 and loc[:2] == ("publish", "github"):
        known = tuple(GitHubPublishConfig.model_fields)
    elif len(loc) == 3 and loc[0] == "escalation_policies":
        known = tuple(PolicyConfig.model_fields)
    elif len(loc) == 5 and loc[0] == "escalation_policies":
        known = tuple(TierConfig.model_fields)
    else:
        return ""
    close = difflib.get_close_matches(key, known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else f" (known keys: {', '.join(known)})"


def _format_validation_error(source: str, exc: ValidationError) -> str:
    """Turn pydantic's errors into one operator-facing line per problem."""
    lines: list[str] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        path = _format_loc(loc)
        kind = err["type"]
        msg = str(err["msg"]).removeprefix("Value error, ")
        if kind == "extra_forbidden":
            msg = "unknown key" + _unknown_key_hint(loc)
        elif kind == "missing":
            msg = "required key is missing"
        elif len(loc) >= 1 and loc[-1] == "[key]":
            msg = f"bad name: {msg}"
        lines.append(f"{source}: {path}: {msg}")
    if len(lines) == 1:
        return lines[0]
    return f"{source}: {len(lines)} problems:\n" + "\n".join(f"  {line}" for line in lines)


def config_from_mapping(data: dict[str, Any], source: str = "<config>") -> IncidentConfig:
    """Validate an already-parsed mapping, reporting problems the same way as load_config."""
    try:
        return IncidentConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(source, exc)) from None


def load_config(path: Path | None) -> IncidentConfig:
    """Load and validate the operator's file; None means the built-in defaults."""
    if path is None:
        return IncidentConfig()
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{source}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{source}: is a directory, expected a TOML file") from None
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read file: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: not valid UTF-8 (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11 puts "(at line L, column C)" in the message itself.
        raise ConfigError(f"{source}: TOML syntax error: {exc}") from None
    cfg = config_from_mapping(data, source)
    if cfg.templates_dir is not None:
        templates = cfg.templates_dir.expanduser()
        if not templates.is_absolute():
            templates = path.parent / templates
        if not templates.is_dir():
            raise ConfigError(f"{source}: templates_dir: directory {str(templates)!r} does not exist")
        cfg = cfg.model_copy(update={"templates_dir": templates})
    return cfg


def _toml_str(value: str) -> str:
    """JSON string escaping is a subset of TOML basic-string escaping, so reuse it."""
    return json.dumps(value, ensure_ascii=False)


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def _triage_text(cfg: IncidentConfig) -> list[str]:
    """Types, services and the priority matrix, as the operator would write them."""
    lines: list[str] = []
    for name, kind in cfg.types.items():
        lines += ["", f"[types.{name}]"]
        if kind.description:
            lines.append(f"description = {_toml_str(kind.description)}")
        if kind.private is not None:
            lines.append(f"private = {'true' if kind.private else 'false'}")
        lines += [f"invite = {_toml_list(kind.invite)}", f"checklist = {_toml_list(kind.checklist)}"]
        if kind.drill:
            lines.append("drill = true")
    for name, service in cfg.services.items():
        lines += ["", f"[services.{name}]"]
        if service.description:
            lines.append(f"description = {_toml_str(service.description)}")
        lines.append(f"invite = {_toml_list(service.invite)}")
    if cfg.priority.configured():
        lines += ["", "[priority]"]
        for impact in LEVELS:
            cells = getattr(cfg.priority, impact)
            if cells:
                inner = ", ".join(f"{u} = {_toml_str(sev)}" for u, sev in cells.items())
                lines.append(f"{impact} = {{ {inner} }}")
    return lines


def _trackers_text(trackers: TrackersConfig) -> list[str]:
    """The tracker's table, or a comment saying none is configured."""
    if trackers.github is not None:
        gh = trackers.github
        return [
            "",
            "[trackers.github]",
            f"repo = {_toml_str(gh.repo)}",
            f"labels = {_toml_list(gh.labels)}",
            f"check_every = {_toml_str(format_duration(gh.check_every))}",
        ]
    if trackers.jira is not None:
        jira = trackers.jira
        return [
            "",
            "[trackers.jira]",
            f"site = {_toml_str(jira.site)}",
            f"project = {_toml_str(jira.project)}",
            f"issue_type = {_toml_str(jira.issue_type)}",
            f"labels = {_toml_list(jira.labels)}",
            f"check_every = {_toml_str(format_duration(jira.check_every))}",
        ]
    return ["", "# trackers: none configured (action items stay in Slack)"]


def _publish_text(publish: PublishConfig) -> list[str]:
    """The publishing table, or a comment saying postmortems are not published."""
    gh = publish.github
    if gh is None:
        return ["", "# publish: not configured (postmortems stay in Slack and `incidentbot export`)"]
    lines = [
        "",
        "[publish.github]",
        f"repo = {_toml_str(gh.repo)}",
        f"branch = {_toml_str(gh.branch)}",
        f"path = {_toml_str(gh.path)}",
        f"private = {'true' if gh.private else 'false'}",
    ]
    if gh.api_url is None:
        return [*lines, "# api_url: not set (INCIDENTBOT_GITHUB_URL)"]
    return [*lines, f"api_url = {_toml_str(gh.api_url)}"]


def effective_config_text(cfg: IncidentConfig) -> str:
    """Print the config as TOML so operators see exactly what the bot will use, defaults included."""
    lines = [
        f"announce_channel = {_toml_str(cfg.announce_channel)}",
        f"channel_prefix = {_toml_str(cfg.channel_prefix)}",
        f"timezone = {_toml_str(cfg.timezone)}",
    ]
    if cfg.templates_dir is None:
        lines.append("# templates_dir: not set (built-in templates)")
    else:
        lines.append(f"templates_dir = {_toml_str(str(cfg.templates_dir))}")
    lines.append("admins = [" + ", ".join(_toml_str(a) for a in cfg.admins) + "]")
    if cfg.admin_group is None:
        lines.append("# admin_group: not set")
    else:
        lines.append(f"admin_group = {_toml_str(cfg.admin_group)}")
    lines.append("statuses = [" + ", ".join(_toml_str(s) for s in cfg.statuses) + "]")
    reactions = ", ".join(f"{_toml_str(k)} = {_toml_str(v)}" for k, v in cfg.timeline_reactions.items())
    lines.append("timeline_reactions = { " + reactions + " }")
    lines.append(f"max_paged_per_command = {cfg.max_paged_per_command}")
    lines.append(f"declare_rate_limit = {_toml_str(cfg.declare_rate_limit)}")
    lines.append(f"rename_rooms = {'true' if cfg.rename_rooms else 'false'}")
    lines.append(f"drill_prefix = {_toml_str(cfg.drill_prefix)}")
    lines.append(f"archive_after = {_toml_str(format_duration(cfg.archive_after))}")
    lines.append(f"postmortem_due = {_toml_str(format_duration(cfg.postmortem_due))}")
    lines.append(f"action_reminders_at = {_toml_str(cfg.action_reminders_at)}")
    if cfg.digest_channel is None:
        lines.append("# digest_channel: not set (no weekly digest)")
    else:
        lines.append(f"digest_channel = {_toml_str(cfg.digest_channel)}")
    lines.append(f"digest_at = {_toml_str(cfg.digest_at)}")
    lines.append(f"page_ack_within = {_toml_str(format_duration(cfg.page_ack_within))}")
    lines += ["", "[permissions]"]
    for name in GUARDED_ACTIONS:
        lines.append(f"{name} = [" + ", ".join(_toml_str(x) for x in getattr(cfg.permissions, name)) + "]")
    for name, sev in cfg.severities.items():
        lines += ["", f"[severities.{name}]"]
        if sev.description:
            lines.append(f"description = {_toml_str(sev.description)}")
        lines += [
            f"update_every = {_toml_str(format_duration(sev.update_every))}",
            f"escalate_after = {sev.escalate_after}",
            f"commander_timeout = {_toml_str(format_duration(sev.commander_timeout))}",
            f"stale_after = {_toml_str(format_duration(sev.stale_after))}",
            f"checklist = {_toml_list(sev.checklist)}",
        ]
        for target in TARGETS:
            value: timedelta | None = getattr(sev, target)
            if value is None:
                lines.append(f"# {target}: not set")
            else:
                lines.append(f"{target} = {_toml_str(format_duration(value))}")
        if sev.page is not None:
            lines.append(f"page = {_toml_str(sev.page)}")
    for name, role in cfg.roles.items():
        lines += ["", f"[roles.{name}]", f"description = {_toml_str(role.description)}"]
    lines += _triage_text(cfg)
    lines += _trackers_text(cfg.trackers)
    lines += _publish_text(cfg.publish)
    for name, policy in cfg.escalation_policies.items():
        lines += ["", f"[escalation_policies.{name}]", f"repeat = {policy.repeat}", "tiers = ["]
        for tier in policy.tiers:
            after = _toml_str(format_duration(tier.ack_within))
            lines.append(f"  {{ notify = {_toml_list(tier.notify)}, ack_within = {after} }},")
        lines.append("]")
    lines += ["", "[retention]"]
    for name in RetentionConfig.model_fields:
        period: timedelta | None = getattr(cfg.retention, name)
        lines.append(f"{name} = {_toml_str(FOREVER if period is None else format_duration(period))}")
    mapped = ", ".join(f"{_toml_str(k)} = {_toml_str(v)}" for k, v in cfg.alerts.severity_map.items())
    lines += ["", "[alerts]", f"severity_label = {_toml_str(cfg.alerts.severity_label)}"]
    lines.append("severity_map = { " + mapped + " }" if mapped else "severity_map = {}")
    return "\n".join(lines) + "\n"
