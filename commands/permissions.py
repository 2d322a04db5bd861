"""Who may do the consequential things: one rule, applied the same on every path.

A rule lists subjects: "anyone"; "unassigned" (anyone, while the incident has no commander);
"commander" or another role name (whoever holds it now); "admins" (configured IDs and the admin group).
The cheap subjects are checked first: only when none of them allows does the rule ask who the admins
are, and that answer never waits on Slack (None while the admin group is not known yet).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from commands.errors import PermissionDenied, TryAgain
from commands.vocabulary import Role

_WHAT = {
    "resolve": "resolve",
    "lower_severity": "lower the severity of",
    "assign_commander": "hand over the commander role of",
    "duplicate": "mark {ref} as a duplicate",
}


class Admins(Protocol):
    """Who the admins are, answered from what is known now; None when that needs Slack first."""

    def is_admin(self, user_id: str) -> bool | None: ...


class Rules(Protocol):
    """The configured subjects of each guarded action."""

    def allowed_to(self, action: str) -> list[str]: ...


class _NoAdmins:
    def is_admin(self, _user_id: str) -> bool | None:
        return False


NO_ADMINS: Admins = _NoAdmins()


class AdminsUnknown(TryAgain):
    """Only admin-group membership could allow this, and it is not known yet; nothing was changed."""


def is_allowed(
    subjects: Sequence[str], *, user: str, roles: Mapping[str, str], admins: Admins
) -> bool | None:
    """True when a subject covers the user; None when only an admin check could, and it is not known yet."""
    for subject in subjects:
        if subject == "anyone":
            return True
        if subject == "unassigned" and Role.COMMANDER not in roles:
            return True
        if roles.get(subject) == user:  # "commander" is a role like any other here
            return True
    if "admins" not in subjects:
        return False
    return admins.is_admin(user)


def require(
    action: str, rules: Rules, *, user: str, roles: Mapping[str, str], admins: Admins, ref: str
) -> None:
    """Raise PermissionDenied, naming who may, unless the user is covered.

    Raises AdminsUnknown when only admin-group membership could allow it and it is not known yet.
    """
    subjects = rules.allowed_to(action)
    allowed = is_allowed(subjects, user=user, roles=roles, admins=admins)
    if allowed:
        return
    phrase = _WHAT.get(action, action)
    what = phrase.format(ref=ref) if "{ref}" in phrase else f"{phrase} {ref}"
    if allowed is None:
        raise AdminsUnknown(
            f":hourglass: Only {_who(subjects)} may {what}, and I am still looking up the admin group with "
            "Slack, so nothing was changed. Please try again in a moment."
        )
    raise PermissionDenied(_refusal(subjects, what, roles, rules))


def _who(subjects: Sequence[str]) -> str:
    """ "the commander or an admin": the subjects a refused person could ask, in the configured order."""
    names = [
        "an admin" if s == "admins" else f"the {s}" for s in subjects if s not in ("anyone", "unassigned")
    ]
    if not names:
        return "nobody"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _refusal(subjects: Sequence[str], what: str, roles: Mapping[str, str], rules: Rules) -> str:
    who = _who(subjects)
    holder = roles.get(Role.COMMANDER)
    if who == "nobody":  # the rule is "unassigned" alone, and there is a commander now
        return f"Nobody may {what} once it has a commander. The commander is <@{holder}>."
    if holder:
        current = f" The commander is <@{holder}>."
    elif is_allowed(rules.allowed_to("assign_commander"), user="", roles=roles, admins=NO_ADMINS):
        current = " Nobody is commander yet: `/incident assign commander @you`."
    else:
        current = " Nobody is commander yet."
    return f"Only {who} may {what}.{current}"
