"""Web API method table, plus the small identity methods (auth.test, users.*, usergroups.*)."""

from __future__ import annotations

from typing import Any

from . import scopes
from .access import Args, Handler, flag
from .blocks import views_open, views_publish, views_push, views_update
from .chat import CHAT_METHODS
from .conversations import CONVERSATION_METHODS
from .files import FILE_METHODS
from .state import BOT_ID, PERMALINK_BASE, EmulatorState, SlackError

__all__ = ["METHODS", "Args", "Handler"]


def auth_test(st: EmulatorState, _a: Args) -> dict[str, Any]:
    """Describe the bot identity, as bolt does at startup."""
    return {
        "url": f"{PERMALINK_BASE}/",
        "team": "Emulator",
        "user": st.users[st.bot_user_id].name,
        "team_id": st.team_id,
        "user_id": st.bot_user_id,
        "bot_id": BOT_ID,
        "is_enterprise_install": False,
    }


def users_info(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Describe a user (deactivated ones too, with deleted: true); email only with users:read.email."""
    user = st.users.get(str(a["user"]))
    if user is None:
        raise SlackError("user_not_found")
    return {"user": user.to_api(st.team_id, with_email=scopes.has(st, scopes.USERS_READ_EMAIL))}


def users_list(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Every user (deactivated ones included), one page at a time."""
    email = scopes.has(st, scopes.USERS_READ_EMAIL)
    page = st.pager.page(sorted(st.users.values(), key=lambda u: u.id), a, "users")
    return {
        "members": [u.to_api(st.team_id, with_email=email) for u in page.items],
        "response_metadata": page.metadata(),
    }


def usergroups_users_list(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Members of a user group (Slack does not paginate this one)."""
    group = st.usergroups.get(str(a["usergroup"]))
    if group is None:
        raise SlackError("no_such_subteam")
    return {"users": list(group[1])}


def usergroups_list(st: EmulatorState, a: Args) -> dict[str, Any]:
    """List user groups (with users when include_users=true)."""
    groups = []
    for gid, (handle, users) in st.usergroups.items():
        entry: dict[str, Any] = {"id": gid, "team_id": st.team_id, "handle": handle, "name": handle}
        entry["user_count"] = len(users)
        if flag(a, "include_users"):
            entry["users"] = list(users)
        groups.append(entry)
    return {"usergroups": groups}


# Dispatch table: Slack method name -> handler (everything the emulator serves under /api/).
METHODS: dict[str, Handler] = {
    "auth.test": auth_test,
    **CONVERSATION_METHODS,
    **CHAT_METHODS,
    **FILE_METHODS,
    "users.info": users_info,
    "users.list": users_list,
    "usergroups.users.list": usergroups_users_list,
    "usergroups.list": usergroups_list,
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
}
