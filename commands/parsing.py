"""Parse `/incident` text into typed commands; every failure names the problem and the right usage."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from commands.due import DueSpec, due_duration, due_word
from commands.errors import UsageError
from commands.text import plain_text
from commands.vocabulary import IncidentStatus, PostmortemStatus

MAX_TITLE = 200
MAX_SUMMARY = 2000
MAX_DESCRIPTION = 3000  # the declare and edit forms' description field
MAX_REASON = 2000  # why an incident is reopened

MAX_MESSAGE = 2900  # leaves room in Slack's 3,000-character section for the update's header
MAX_NOTE = 2000

USAGE: dict[str, str] = {
    "declare": "/incident declare [severity] [--private] [--drill] [--type TYPE] [--service NAME]... <title>"
    "  (no text opens a form)",
    "status": "/incident status  (in a war room)",
    "list": "/incident list",
    "assign": "/incident assign <role> <@user>  (in a war room)",
    "update": "/incident update [status] <message>  (in a war room; no text opens a form)",
    "escalate": "/incident escalate [severity] [@user | @group]...  (in a war room)",
    "page": "/incident page <policy | @user | @group>...  (in a war room)",
    "note": "/incident note <text>  (in a war room)",
    "action": "/incident action <text> [@owner] [due <date> | due in <n>d|<n>w] [p1|p2|p3] "
    "[type mitigate|prevent|process]  (in a war room; "
    "options go last; no text opens a form; `action done <n>` marks item n done)",
    "actions": "/incident actions  (in a war room: its action items, open first, with Done buttons)",
    "resolve": "/incident resolve [summary]  (in a war room)",
    "postmortem": "/incident postmortem [owner <@user> | status draft|in-review|published | review <date>]"
    "  (in a war room; alone: upload a fresh draft)",
    "edit": "/incident edit [title <text> | description <text> | impact-started <time> | detected <time>]  "
    "(in a war room; no text opens a form; a time is HH:MM in the configured zone or ISO-8601)",
    "reopen": "/incident reopen [reason]  (in a resolved incident's war room)",
    "duplicate": "/incident duplicate INC-<n>  (in a war room: resolve it as a duplicate of that incident)",
    "stats": "/incident stats [7d|30d|90d]  (anywhere: figures across incidents, with charts; default 30d)",
    "mitigated": "/incident mitigated [note]  (in a war room: the impact has stopped)",
    "help": "/incident help",
}

# What Slack sends for mentions when the command has should_escape on.
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_GROUP = re.compile(r"^<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>$")


@dataclass(frozen=True)
class Declare:
    title: str
    severity: str | None = None
    private: bool = False
    description: str = ""  # the declare form's longer text; the slash command has none
    incident_type: str | None = None  # None: the `[types.default]`, when configured
    services: tuple[str, ...] = ()
    drill: bool = False
    impact: str | None = None  # the form's priority questions (high | medium | low)
    urgency: str | None = None
    impact_started_at: datetime | None = None  # the form's detection and impact times (commands/impact.py)
    detected_at: datetime | None = None


@dataclass(frozen=True)
class OpenDeclareForm:
    pass


@dataclass(frozen=True)
class Status:
    pass


@dataclass(frozen=True)
class ListOpen:
    pass


@dataclass(frozen=True)
class Resolve:
    summary: str = ""


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Assign:
    role: str
    user_id: str
    vacant_only: bool = False  # "I'll take it": take the role only while nobody holds it


@dataclass(frozen=True)
class PostUpdate:
    message: str
    status: str | None = None


@dataclass(frozen=True)
class OpenUpdateForm:
    pass


@dataclass(frozen=True)
class Escalate:
    severity: str | None = None
    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class PageTargets:
    """`/incident page`: escalation policies by name (checked when recorded), people and user groups."""

    policies: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class AcknowledgePage:
    """A page DM's *Acknowledge*; the page is only what the button claims."""

    page_id: int | None


@dataclass(frozen=True)
class Note:
    text: str


@dataclass(frozen=True)
class AddActionItem:
    text: str
    owner: str | None = None
    due: DueSpec | None = None  # resolved against the clock when recorded (a past day is refused then)
    priority: str | None = None  # p1 | p2 | p3
    kind: str | None = None  # mitigate | prevent | process


@dataclass(frozen=True)
class OpenActionForm:
    """`/incident action` without text, or the *Make action item* message shortcut (its text pre-filled)."""

    text: str = ""


@dataclass(frozen=True)
class ListActionItems:
    """`/incident actions`."""


@dataclass(frozen=True)
class MarkActionDone:
    """A *Done* button (`item_id`, only a claim until checked) or `/incident action done <n>` (`number`)."""

    item_id: int | None = None
    number: int | None = None
    message_ts: str | None = None  # the list message clicked, shown afresh after the click


@dataclass(frozen=True)
class SnoozeActionItem:
    """The weekly reminder's *Snooze* button: the item leaves the owner's reminders for a week."""

    item_id: int | None


@dataclass(frozen=True)
class Postmortem:
    pass


POSTMORTEM_STATUSES = tuple(PostmortemStatus)


@dataclass(frozen=True)
class SetPostmortem:
    """`/incident postmortem owner|status|review …`: one of the postmortem's owner, status or review day."""

    owner: str | None = None
    status: str | None = None
    review: DueSpec | None = None


def parse_postmortem(words: list[str]) -> Postmortem | SetPostmortem:
    """`postmortem` alone, or one of its settings with one value."""
    if not words:
        return Postmortem()
    what, rest = words[0].lower(), words[1:]
    if what == "owner":
        owner = user_mention(rest[0]) if len(rest) == 1 else None
        if owner is None:
            raise _usage("postmortem", "Name one person as the owner: `/incident postmortem owner @alice`.")
        return SetPostmortem(owner=owner)
    if what == "status":
        if len(rest) != 1 or rest[0].lower() not in POSTMORTEM_STATUSES:
            raise _usage("postmortem", "The status is one of " + ", ".join(POSTMORTEM_STATUSES) + ".")
        return SetPostmortem(status=rest[0].lower())
    if what == "review":
        spec = due_word(rest[0]) if len(rest) == 1 else None
        if len(rest) == 2 and rest[0].lower() == "in":
            spec = due_duration(rest[1])
        if spec is None:
            raise _usage(
                "postmortem",
                "Give the review day as YYYY-MM-DD, today, tomorrow, a weekday or `in <n>d`.",
            )
        return SetPostmortem(review=spec)
    raise _usage("postmortem", f"`{plain_text(words[0])[:40]}` is not something a postmortem has.")


@dataclass(frozen=True)
class OpenAssignForm:
    """The room's *Assign role* button."""


@dataclass(frozen=True)
class JoinRoom:
    """A page's *Join war room* button; the incident is only what the button claims."""

    incident_id: int | None


@dataclass(frozen=True)
class Snooze:
    """A reminder's snooze button."""

    choice: str


@dataclass(frozen=True)
class AddToTimeline:
    """The "Add to incident timeline" message shortcut."""

    ts: str
    author: str | None
    text: str


@dataclass(frozen=True)
class Edit:
    """Change what the incident is called or covers; None leaves a field as it is."""

    title: str | None = None
    description: str | None = None
    incident_type: str | None = None
    services: tuple[str, ...] | None = None


@dataclass(frozen=True)
class SetIncidentTime:
    """`/incident edit impact-started|detected <time>`: the words are read against the clock when recorded."""

    field: str  # impact_started | detected
    text: str


@dataclass(frozen=True)
class MarkMitigated:
    """`/incident mitigated [note]`: the impact has stopped, whatever the status says."""

    note: str = ""


@dataclass(frozen=True)
class OpenEditForm:
    """`/incident edit` without arguments."""


@dataclass(frozen=True)
class Reopen:
    reason: str = ""


@dataclass(frozen=True)
class Duplicate:
    """`/incident duplicate INC-12`, or the summary's *Mark as duplicate* (its value is only a claim)."""

    incident_id: int | None


@dataclass(frozen=True)
class Stats:
    """`/incident stats`: the last `days` days' figures across incidents, and their charts."""

    days: int


# The periods `/incident stats` offers: each is a fixed, documented window, so numbers are comparable.
STATS_PERIODS = {"7d": 7, "30d": 30, "90d": 90}
DEFAULT_STATS_PERIOD = "30d"


@dataclass(frozen=True)
class TickChecklist:
    """Checkboxes of the room's checklist changed: the positions ticked and unticked by this click."""

    checked: tuple[int, ...] = ()
    unchecked: tuple[int, ...] = ()


Command = (
    Declare
    | OpenDeclareForm
    | Status
    | ListOpen
    | Resolve
    | Help
    | Assign
    | PostUpdate
    | OpenUpdateForm
    | Escalate
    | PageTargets
    | Note
    | AddActionItem
    | OpenActionForm
    | ListActionItems
    | MarkActionDone
    | Postmortem
    | SetPostmortem
    | Edit
    | OpenEditForm
    | Reopen
    | Duplicate
    | Stats
    | SetIncidentTime
    | MarkMitigated
)


def help_text() -> str:
    """The grammar, one line a command."""
    return "Usage:\n" + "\n".join(f"• `{line}`" for line in USAGE.values())


def _usage(verb: str, problem: str) -> UsageError:
    return UsageError(f"{problem}\nUsage: `{USAGE[verb]}`")


def parse_declare(
    words: list[str],
    severities: Sequence[str],
    types: Sequence[str] = (),
    services: Sequence[str] = (),
) -> Declare | OpenDeclareForm:
    """Read `[severity] [--private] [--drill] [--type T] [--service S]... <title>`, options in any order."""
    if not words:
        return OpenDeclareForm()
    severity: str | None = None
    private = drill = False
    incident_type: str | None = None
    chosen: list[str] = []
    while words:
        word = words[0].lower()
        head, _, attached = word.partition("=") if word.startswith("--") else (word, "", "")
        if head in ("--private", "-p") and not attached:
            private = True
        elif head == "--drill" and not attached:
            drill = True
        elif head in ("--type", "--service"):
            value, words = (attached, words[1:]) if attached else _option_value(words, head)
            if head == "--type":
                if incident_type is not None and incident_type != value:
                    raise _usage("declare", "Give one `--type`.")
                incident_type = _known(value, types, "type", "types")
            else:
                chosen.append(_known(value, services, "service", "services"))
            continue
        elif head in severities and severity is None:
            severity = head
        elif head.startswith("--"):
            raise _usage("declare", f"Unknown option `{plain_text(words[0])[:40]}`.")
        else:
            break
        words = words[1:]
    title = plain_text(" ".join(words))
    if not title:
        raise _usage("declare", "An incident needs a title.")
    if len(title) > MAX_TITLE:
        raise _usage("declare", f"The title is {len(title)} characters long; the limit is {MAX_TITLE}.")
    return Declare(
        title=title,
        severity=severity,
        private=private,
        incident_type=incident_type,
        services=tuple(dict.fromkeys(chosen)),
        drill=drill,
    )


def _option_value(words: list[str], option: str) -> tuple[str, list[str]]:
    """The word after `--type` or `--service`, and the words after it."""
    if len(words) < 2 or words[1].startswith("--"):
        raise _usage("declare", f"`{option}` needs a name after it.")
    return words[1].lower(), words[2:]


def _known(value: str, known: Sequence[str], what: str, plural: str) -> str:
    """A configured type or service name; anything else is refused naming the ones there are."""
    if value in known:
        return value
    shown = plain_text(value)[:40]
    if not known:
        raise _usage("declare", f"Unknown {what} `{shown}`: no {plural} are configured.")
    raise _usage("declare", f"Unknown {what} `{shown}`. Known {plural}: {', '.join(known)}.")


def user_mention(word: str) -> str | None:
    """The user id in an escaped mention `<@U123|name>`, else None."""
    match = _USER.match(word)
    return match.group(1) if match else None


def _check_length(verb: str, what: str, text: str, limit: int) -> str:
    if len(text) > limit:
        raise _usage(verb, f"The {what} is {len(text)} characters long; the limit is {limit}.")
    return text


def parse_assign(words: list[str], roles: Sequence[str]) -> Assign:
    if len(words) != 2:
        raise _usage("assign", "Name one role and one person.")
    role, who = words[0].lower(), words[1]
    if role not in roles:
        raise _usage("assign", f"Unknown role `{plain_text(words[0])[:40]}`. Roles: {', '.join(roles)}.")
    user = user_mention(who)
    if user is None:
        raise _usage("assign", f"`{plain_text(who)[:40]}` is not a person: mention them, like @alice.")
    return Assign(role=role, user_id=user)


def parse_update(words: list[str], statuses: Sequence[str]) -> PostUpdate | OpenUpdateForm:
    if not words:
        return OpenUpdateForm()
    status = None
    allowed = [s for s in statuses if s != IncidentStatus.RESOLVED]
    if words[0].lower() in allowed:
        status, words = words[0].lower(), words[1:]
    elif words[0].lower() == IncidentStatus.RESOLVED:
        raise _usage("update", "To resolve the incident use `/incident resolve [summary]`.")
    message = plain_text(" ".join(words))
    if not message:
        raise _usage("update", "An update needs a message for stakeholders.")
    return PostUpdate(message=_check_length("update", "update", message, MAX_MESSAGE), status=status)


def parse_escalate(words: list[str], severities: Sequence[str]) -> Escalate:
    severity: str | None = None
    users: list[str] = []
    groups: list[str] = []
    for word in words:
        group = _GROUP.match(word)
        if word.lower() in severities and severity is None:
            severity = word.lower()
        elif (user := user_mention(word)) is not None:
            users.append(user)
        elif group:
            groups.append(group.group(1))
        else:
            shown = plain_text(word)[:40]
            raise _usage(
                "escalate",
                f"`{shown}` is not a severity ({', '.join(severities)}), a person or a user group.",
            )
    if severity is None and not users and not groups:
        raise _usage("escalate", "Give a severity, people or user groups to page.")
    return Escalate(severity=severity, users=tuple(dict.fromkeys(users)), groups=tuple(dict.fromkeys(groups)))


_POLICY = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")


def parse_page(words: list[str]) -> PageTargets:
    policies: list[str] = []
    users: list[str] = []
    groups: list[str] = []
    for word in words:
        group = _GROUP.match(word)
        if (user := user_mention(word)) is not None:
            users.append(user)
        elif group:
            groups.append(group.group(1))
        elif _POLICY.match(word.lower()):
            policies.append(word.lower())
        else:
            raise _usage("page", f"`{plain_text(word)[:40]}` is not a policy name, a person or a user group.")
    if not words:
        raise _usage("page", "Name an escalation policy, people or user groups to page.")
    return PageTargets(
        policies=tuple(dict.fromkeys(policies)),
        users=tuple(dict.fromkeys(users)),
        groups=tuple(dict.fromkeys(groups)),
    )


PRIORITIES = ("p1", "p2", "p3")
ACTION_KINDS = ("mitigate", "prevent", "process")
_ITEM_NUMBER = re.compile(r"^#?(\d{1,6})$")
_LONG_UNITS = {"day": "d", "days": "d", "week": "w", "weeks": "w"}


def parse_action(words: list[str]) -> AddActionItem | OpenActionForm | MarkActionDone:
    """Read `<text> [@owner] [due <date> | due in <n>d] [p1|p2|p3]`, or `done <n>`; no text opens a form.

    Options are read from the end only, in any order, each once: the first word from the end that is
    not an option ends them, so "ask @bob due to the p1 outage" keeps every word as its text.
    """
    if not words:
        return OpenActionForm()
    if len(words) == 2 and words[0].lower() == "done" and (number := _ITEM_NUMBER.match(words[1])):
        return MarkActionDone(number=int(number.group(1)))
    owner: str | None = None
    due: DueSpec | None = None
    priority: str | None = None
    kind: str | None = None
    try:
        while words:
            last, lowered = words[-1], words[-1].lower()
            before = [w.lower() for w in words[-4:-1]]
            # Any other word after "type" stays text: "fix the type checker" is an item, not a bad type.
            if kind is None and before[-1:] == ["type"] and lowered in ACTION_KINDS:
                kind, words = lowered, words[:-2]
            elif priority is None and lowered in PRIORITIES:
                priority, words = lowered, words[:-1]
            elif owner is None and (mention := user_mention(last)) is not None:
                owner, words = mention, words[:-1]
            elif due is None and before[-1:] == ["due"] and (spec := due_word(last)) is not None:
                due, words = spec, words[:-2]
            elif due is None and before[-2:] == ["due", "in"] and (spec := due_duration(last)) is not None:
                due, words = spec, words[:-3]
            elif (
                due is None
                and len(before) == 3
                and before[:2] == ["due", "in"]
                and before[2].isdigit()
                and lowered in _LONG_UNITS
                and (spec := due_duration(before[2] + _LONG_UNITS[lowered])) is not None
            ):
                due, words = spec, words[:-4]
            elif due is None and (before[-1:] == ["due"] or before[-2:] == ["due", "in"]):
                shown = plain_text(" ".join(words[-2:] if before[-1:] == ["due"] else words[-3:]))[:60]
                raise _usage(
                    "action",
                    f"`{shown}` is not a due date: give YYYY-MM-DD, today, tomorrow, a weekday, or "
                    "`in 3d` / `in 2w` (end the text with a full stop to keep these words as text).",
                )
            else:
                break
    except UsageError as exc:
        if "Usage:" in exc.message:
            raise
        raise _usage("action", exc.message) from None
    text = plain_text(" ".join(words))
    if not text:
        raise _usage("action", "An action item needs a description.")
    return AddActionItem(
        text=_check_length("action", "action item", text, MAX_NOTE),
        owner=owner,
        due=due,
        priority=priority,
        kind=kind,
    )


def parse_edit(words: list[str]) -> Edit | OpenEditForm | SetIncidentTime:
    """Read `title <text>`, `description <text>`, `impact-started <time>` or `detected <time>`."""
    if not words:
        return OpenEditForm()
    field, text = words[0].lower(), plain_text(" ".join(words[1:]))
    if field in TIME_FIELDS:
        if not text:
            raise _usage("edit", f"Give the time after `{field}`: HH:MM, or ISO-8601 like 2026-11-30T09:05.")
        return SetIncidentTime(field=TIME_FIELDS[field], text=text[:60])
    if field == "title":
        if not text:
            raise _usage("edit", "A title cannot be empty.")
        return Edit(title=_check_length("edit", "title", text, MAX_TITLE))
    if field == "description":
        if not text:
            raise _usage("edit", "Give the new description (the form can empty it).")
        return Edit(description=_check_length("edit", "description", text, MAX_DESCRIPTION))
    raise _usage(
        "edit",
        f"`{plain_text(words[0])[:40]}` cannot be edited here: name `title`, `description`, "
        "`impact-started` or `detected`.",
    )


# `/incident edit` words for the detection and impact times, and the fields they set.
TIME_FIELDS = {"impact-started": "impact_started", "detected": "detected"}


_INCIDENT_REF = re.compile(r"^(?:INC-?|#)?(\d{1,9})$", re.IGNORECASE)


def parse_duplicate(words: list[str]) -> Duplicate:
    if len(words) != 1:
        raise _usage("duplicate", "Name the one incident this one duplicates.")
    match = _INCIDENT_REF.match(words[0])
    if match is None:
        raise _usage("duplicate", f"`{plain_text(words[0])[:40]}` is not an incident, like INC-12.")
    return Duplicate(int(match.group(1)))


def parse_stats(words: list[str]) -> Stats:
    """Read the optional period: 7d, 30d or 90d (30d when none is given)."""
    if len(words) > 1:
        raise _usage("stats", "Give at most one period.")
    period = words[0].lower() if words else DEFAULT_STATS_PERIOD
    if period not in STATS_PERIODS:
        raise _usage(
            "stats", f"`{plain_text(words[0])[:40]}` is not a period I report on: use 7d, 30d or 90d."
        )
    return Stats(STATS_PERIODS[period])


def parse(
    text: str,
    *,
    severities: Sequence[str],
    roles: Sequence[str] = ("commander", "comms", "scribe", "ops"),
    statuses: Sequence[str] = ("investigating", "identified", "monitoring", "resolved"),
    types: Sequence[str] = (),
    services: Sequence[str] = (),
) -> Command:
    """Parse the text after `/incident`."""
    words = text.split()
    if not words:
        return Help()
    verb, rest = words[0].lower(), words[1:]
    if verb == "declare":
        return parse_declare(rest, severities, types, services)
    if verb == "status":
        if rest:
            raise _usage("status", "`status` takes no arguments.")
        return Status()
    if verb == "list":
        if rest:
            raise _usage("list", "`list` takes no arguments.")
        return ListOpen()
    if verb == "stats":
        return parse_stats(rest)
    if verb == "resolve":
        summary = plain_text(" ".join(rest))
        if len(summary) > MAX_SUMMARY:
            raise _usage("resolve", f"The summary is {len(summary)} characters; the limit is {MAX_SUMMARY}.")
        return Resolve(summary=summary)
    if verb in ("help", "-h", "--help"):
        return Help()
    if verb == "assign":
        return parse_assign(rest, roles)
    if verb == "update":
        return parse_update(rest, statuses)
    if verb == "escalate":
        return parse_escalate(rest, severities)
    if verb == "page":
        return parse_page(rest)
    if verb == "note":
        note = plain_text(" ".join(rest))
        if not note:
            raise _usage("note", "A note needs some text.")
        return Note(text=_check_length("note", "note", note, MAX_NOTE))
    if verb == "action":
        return parse_action(rest)
    if verb == "actions":
        if rest:
            raise _usage("actions", "`actions` takes no arguments.")
        return ListActionItems()
    if verb == "postmortem":
        return parse_postmortem(rest)
    if verb == "edit":
        return parse_edit(rest)
    if verb == "reopen":
        reason = plain_text(" ".join(rest))
        return Reopen(reason=_check_length("reopen", "reason", reason, MAX_REASON))
    if verb == "duplicate":
        return parse_duplicate(rest)
    if verb == "mitigated":
        note = plain_text(" ".join(rest))
        return MarkMitigated(note=_check_length("mitigated", "note", note, MAX_NOTE))

    raise UsageError(f"Unknown command `{plain_text(words[0])[:40]}`.\n{help_text()}")
