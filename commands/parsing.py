"""Parse `/incident` text into typed commands; every failure names the problem and the right usage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from commands.errors import UsageError
from commands.text import plain_text

MAX_TITLE = 200
MAX_SUMMARY = 2000

USAGE: dict[str, str] = {
    "declare": "/incident declare [severity] [--private] <title>  (no text opens a form)",
    "status": "/incident status  (in a war room)",
    "list": "/incident list",
    "resolve": "/incident resolve [summary]  (in a war room)",
    "help": "/incident help",
}


@dataclass(frozen=True)
class Declare:
    title: str
    severity: str | None = None
    private: bool = False


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


Command = Declare | OpenDeclareForm | Status | ListOpen | Resolve | Help


def help_text() -> str:
    """The grammar, one line a command."""
    return "Usage:\n" + "\n".join(f"• `{line}`" for line in USAGE.values())


def _usage(verb: str, problem: str) -> UsageError:
    return UsageError(f"{problem}\nUsage: `{USAGE[verb]}`")


def parse_declare(words: list[str], severities: Sequence[str]) -> Declare | OpenDeclareForm:
    """Read `[severity] [--private] <title>` in any order of the leading options."""
    if not words:
        return OpenDeclareForm()
    severity: str | None = None
    private = False
    while words:
        head = words[0].lower()
        if head in ("--private", "-p"):
            private = True
        elif head in severities and severity is None:
            severity = head
        elif head.startswith("--"):
            raise _usage("declare", f"Unknown option `{words[0]}`.")
        else:
            break
        words = words[1:]
    title = plain_text(" ".join(words))
    if not title:
        raise _usage("declare", "An incident needs a title.")
    if len(title) > MAX_TITLE:
        raise _usage("declare", f"The title is {len(title)} characters long; the limit is {MAX_TITLE}.")
    return Declare(title=title, severity=severity, private=private)


def validate_severity(name: str, severities: Sequence[str]) -> str:
    """Return the severity if configured, else raise a UsageError listing the valid ones."""
    if name not in severities:
        raise _usage("declare", f"Unknown severity `{name}`. Choose one of: {', '.join(severities)}.")
    return name


def parse(text: str, *, severities: Sequence[str]) -> Command:
    """Parse the text after `/incident`."""
    words = text.split()
    if not words:
        return Help()
    verb, rest = words[0].lower(), words[1:]
    if verb == "declare":
        return parse_declare(rest, severities)
    if verb == "status":
        if rest:
            raise _usage("status", "`status` takes no arguments.")
        return Status()
    if verb == "list":
        if rest:
            raise _usage("list", "`list` takes no arguments.")
        return ListOpen()
    if verb == "resolve":
        summary = plain_text(" ".join(rest))
        if len(summary) > MAX_SUMMARY:
            raise _usage("resolve", f"The summary is {len(summary)} characters; the limit is {MAX_SUMMARY}.")
        return Resolve(summary=summary)
    if verb in ("help", "-h", "--help"):
        return Help()
    raise UsageError(f"Unknown command `{plain_text(words[0])[:40]}`.\n{help_text()}")
