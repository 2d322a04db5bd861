"""OAuth scopes: the bot scopes each method accepts, and Slack's `missing_scope` answer without them.

The scope lists are Slack's per-method "Bot token" scopes from the method reference pages
(https://docs.slack.dev/reference/methods/<method>); any one of them is enough for the method. For the
conversations.* methods Slack further narrows that to the scopes of the conversation's type: a private
channel needs a `groups:*` scope even when the token has the matching `channels:*` one (Slack answers
`missing_scope` with `needed: groups:history`), an IM needs `im:*`, a multi-person IM `mpim:*`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .state import Channel, EmulatorState, SlackError

# Bot scopes each method accepts (any one is enough); methods absent here need no scope
# (views.*, chat.getPermalink, auth.test, apps.connections.open which takes the app-level token).
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "conversations.create": ("channels:manage", "channels:write", "groups:write", "im:write", "mpim:write"),
    "conversations.invite": (
        "channels:manage",
        "channels:write.invites",
        "groups:write",
        "groups:write.invites",
        "im:write",
        "mpim:write",
    ),
    "conversations.setTopic": (
        "channels:manage",
        "channels:write.topic",
        "groups:write",
        "groups:write.topic",
        "im:write",
        "im:write.topic",
        "mpim:write",
        "mpim:write.topic",
    ),
    "conversations.archive": ("channels:manage", "channels:write", "groups:write", "im:write", "mpim:write"),
    "conversations.rename": ("channels:manage", "channels:write", "groups:write", "im:write", "mpim:write"),
    "conversations.info": ("channels:read", "groups:read", "im:read", "mpim:read"),
    "conversations.members": ("channels:read", "groups:read", "im:read", "mpim:read"),
    "conversations.list": ("channels:read", "groups:read", "im:read", "mpim:read"),
    "conversations.history": ("channels:history", "groups:history", "im:history", "mpim:history"),
    "conversations.replies": ("channels:history", "groups:history", "im:history", "mpim:history"),
    "conversations.join": ("channels:join",),
    "conversations.open": ("channels:manage", "groups:write", "im:write", "mpim:write"),
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "pins.add": ("pins:write",),
    "reactions.add": ("reactions:write",),
    "users.info": ("users:read",),
    "users.list": ("users:read",),
    "usergroups.users.list": ("usergroups:read",),
    "usergroups.list": ("usergroups:read",),
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
}
METHOD_SCOPES["conversations.setPurpose"] = METHOD_SCOPES["conversations.setTopic"]

# The scope family of each conversation type, as Slack names them.
FAMILIES = {"public": "channels:", "private": "groups:", "im": "im:", "mpim": "mpim:"}
# conversations.list `types` values and the family each one needs.
LIST_TYPES = {"public_channel": "public", "private_channel": "private", "im": "im", "mpim": "mpim"}
# Lets a bot post in public channels it is not a member of (chat.postMessage's not_in_channel otherwise).
CHAT_WRITE_PUBLIC = "chat:write.public"
# Without it Slack leaves `profile.email` out of users.info.
USERS_READ_EMAIL = "users:read.email"


def kind_of(chan: Channel) -> str:
    """The conversation's type as the scope families name it."""
    if chan.is_im:
        return "im"
    return "private" if chan.is_private else "public"


def missing_scope(st: EmulatorState, needed: Iterable[str]) -> SlackError:
    """Slack's missing_scope error, naming what would have been enough and what the token has."""
    extra = {"needed": ",".join(needed), "provided": ",".join(st.granted_scopes())}
    return SlackError("missing_scope", extra=extra)


def require_any(st: EmulatorState, accepted: Iterable[str]) -> None:
    """Raise missing_scope unless the token holds one of `accepted` (no scopes listed: nothing needed)."""
    wanted = tuple(accepted)
    if wanted and not set(wanted) & set(st.granted_scopes()):
        raise missing_scope(st, wanted)


def for_kind(method: str, kind: str) -> tuple[str, ...]:
    """The method's accepted scopes narrowed to one conversation type (all of them when not family-bound)."""
    accepted = METHOD_SCOPES.get(method, ())
    family = tuple(s for s in accepted if s.startswith(FAMILIES[kind]))
    bound = any(s.startswith(tuple(FAMILIES.values())) for s in accepted)
    return family if bound else accepted


def check_method(st: EmulatorState, method: str) -> None:
    """Method-level check, before arguments are looked at: at least one listed scope is granted."""
    require_any(st, METHOD_SCOPES.get(method, ()))


def check_conversation(st: EmulatorState, method: str, args: dict[str, Any]) -> None:
    """Conversation-level check, first: the scopes of the conversation type the call touches.

    Runs before check_method so `needed` names the narrow family (groups:history, not every history
    scope). Only conversations the bot can see are checked; the handler answers channel_not_found for
    the others, as Slack does.
    """
    if method == "conversations.create":
        private = str(args.get("is_private", "")).lower() in ("1", "true")
        require_any(st, for_kind(method, "private" if private else "public"))
    elif method == "conversations.list":
        granted = set(st.granted_scopes())
        families = [for_kind(method, kind) for kind in list_kinds(args)]
        lacking = [scope for family in families if not granted & set(family) for scope in family]
        if lacking:
            raise missing_scope(st, lacking)
    elif method == "conversations.open" and not args.get("channel"):
        require_any(st, for_kind(method, "im"))
    elif method.startswith("conversations."):
        chan = st.channels.get(str(args.get("channel") or ""))
        if chan is not None and (not (chan.is_private or chan.is_im) or st.bot_user_id in chan.members):
            require_any(st, for_kind(method, kind_of(chan)))


def list_kinds(args: dict[str, Any]) -> list[str]:
    """The conversation types a conversations.list call asks for (Slack's default: public channels)."""
    types = [t.strip() for t in str(args.get("types") or "public_channel").split(",") if t.strip()]
    return [LIST_TYPES[t] for t in types if t in LIST_TYPES]


def accepted_header(method: str) -> str:
    """The x-accepted-oauth-scopes header value Slack sends: the scopes the method accepts."""
    return ",".join(METHOD_SCOPES.get(method, ()))


def has(st: EmulatorState, scope: str) -> bool:
    """Whether the installed app was granted one scope."""
    return scope in st.granted_scopes()
