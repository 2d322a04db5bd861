"""conversations.invite: Slack's all-or-nothing rule for several users, and `force`.

https://docs.slack.dev/reference/methods/conversations.invite: "Users who can be successfully invited
[...] will not be invited if any of the user invites fail. Instead, an error response will be
returned." With `force=true`, Slack "continue[s] inviting the valid ones while disregarding invalid
IDs". Deactivated ("removed") users "fail silently": an error response comes back, "but all other users
will be invited". Failures are listed per user in `errors` ({"user", "ok": false, "error"}).
"""

from __future__ import annotations

from typing import Any

from .access import Args, flag, joined, not_archived
from .state import Channel, EmulatorState, SlackError

MAX_INVITES = 1000  # "invites 1-1000 users"
# A deactivated user; the per-user error Slack's list has for "User cannot be invited to this channel".
DEACTIVATED = "cant_invite"


def conversations_invite(st: EmulatorState, a: Args) -> dict[str, Any]:
    """Invite users; any refusal leaves everyone out unless force=true (deactivated users excepted)."""
    chan = not_archived(joined(st, a))
    if chan.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    raw = a["users"]
    listed = raw if isinstance(raw, list) else str(raw).split(",")  # a JSON body may send an array
    users = list(dict.fromkeys(str(u).strip() for u in listed if str(u).strip()))
    if not users:
        raise SlackError("no_user")
    if len(users) > MAX_INVITES:
        raise SlackError("too_many_users")
    refused = {u: err for u in users if (err := _refusal(st, chan, u))}
    valid = [u for u in users if u not in refused]
    errors: list[dict[str, Any]] = [{"user": u, "ok": False, "error": err} for u, err in refused.items()]
    first = next(iter(refused.values()), "")
    hard = any(err != DEACTIVATED for err in refused.values())
    force = flag(a, "force")
    if hard and not force:
        raise SlackError(first, extra={"errors": errors})
    chan.members.update(valid)
    if refused and (not valid or not force):
        # Only deactivated users refused (the others are in now), or nobody was valid: still an error.
        raise SlackError(first, extra={"errors": errors})
    out: dict[str, Any] = {"channel": chan.to_api(st.bot_user_id)}
    if errors:
        out["errors"] = errors
    return out


def _refusal(st: EmulatorState, chan: Channel, user_id: str) -> str | None:
    """Why Slack would refuse to invite this one user, or None."""
    user = st.users.get(user_id)
    if user_id == st.bot_user_id:
        return "cant_invite_self"
    if user is None:
        return "user_not_found"
    if user.deleted:
        return DEACTIVATED
    if user.is_ultra_restricted:
        return "ura_max_channels"  # a single-channel guest already has their one channel
    if user.is_restricted:
        return "user_is_restricted"
    if user_id in chan.members:
        return "already_in_channel"
    return None
