"""Who may do the consequential things: one rule, applied the same on every path."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from commands.errors import PermissionDenied

_WHAT = {"resolve": "resolve", "lower_severity": "lower the severity of"}


def is_allowed(subjects: Sequence[str], *, user: str, roles: Mapping[str, str], is_admin: bool) -> bool:
    """True when any subject ("anyone", "commander", "admins" or a role name) covers the user."""
    for subject in subjects:
        if subject == "anyone":
            return True
        if subject == "admins" and is_admin:
            return True
        if roles.get(subject) == user:  # "commander" is a role like any other here
            return True
    return False


def require(
    action: str, subjects: Sequence[str], *, user: str, roles: Mapping[str, str], is_admin: bool, ref: str
) -> None:
    """Raise PermissionDenied, naming who may, unless the user is covered."""
    if is_allowed(subjects, user=user, roles=roles, is_admin=is_admin):
        return
    names = ["an admin" if s == "admins" else f"the {s}" for s in subjects if s != "anyone"]
    who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    holder = roles.get("commander")
    current = (
        f" The commander is <@{holder}>."
        if holder
        else " Nobody is commander yet: `/incident assign commander @you`."
    )
    raise PermissionDenied(f"Only {who} may {_WHAT.get(action, action)} {ref}.{current}")
