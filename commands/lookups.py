"""Look up the people and groups an escalation names, in parallel: one round trip's wait, not one each."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from commands.errors import UnknownTarget

# users.info is Tier 4 and usergroups.users.list Tier 2: a few at a time stays well inside both, and
# bounds the threads one escalation can hold whatever it names (max_paged_per_command caps the rest).
LOOKUP_THREADS = 8


class Directory(Protocol):
    """The look-ups an escalation needs: whether a person exists, who is in a group."""

    def user_exists(self, user_id: str) -> bool: ...

    def group_members(self, group_id: str) -> list[str]: ...


def people_to_page(chat: Directory, users: Sequence[str], groups: Sequence[str]) -> list[str]:
    """The named people, checked to exist, then the named groups' members, in the order named.

    Raises UnknownTarget for the first named person Slack does not know (nothing is recorded yet), and
    whatever a look-up raised (Slack being down) otherwise.
    """
    if not users and not groups:
        return []
    with ThreadPoolExecutor(
        max_workers=min(LOOKUP_THREADS, len(users) + len(groups)), thread_name_prefix="incidentbot-lookup"
    ) as pool:
        known = pool.map(chat.user_exists, users)
        members = pool.map(chat.group_members, groups)
        missing = [user for user, exists in zip(users, list(known), strict=True) if not exists]
        expanded = [member for group in members for member in group]
    if missing:
        raise UnknownTarget(f"I can't find <@{missing[0]}> in this workspace; nothing was changed.")
    return [*users, *expanded]
