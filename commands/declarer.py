"""Who declared an incident: a Slack member, or an alerting system (never mentioned, invited or told)."""

from __future__ import annotations

# Never a Slack member id (those are upper-case letters and digits): "source:Alertmanager".
SOURCE_PREFIX = "source:"


def source_declarer(name: str) -> str:
    """The declared_by of an incident an alerting system declared."""
    return SOURCE_PREFIX + name


def is_person(who: str | None) -> bool:
    """Whether `who` is a Slack member the bot may mention, invite or message."""
    return bool(who) and not str(who).startswith(SOURCE_PREFIX)


def person(who: str | None) -> str | None:
    """`who` when it is a Slack member the bot may address, else None (an alerting system asks the room)."""
    return who if is_person(who) else None


def source_name(who: str | None) -> str | None:
    """The alerting system's name, for a declarer that is one; None for a person."""
    if who and who.startswith(SOURCE_PREFIX):
        return who[len(SOURCE_PREFIX) :]
    return None
