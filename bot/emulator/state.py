"""In-memory workspace model of the Slack emulator: users, channels, messages, files, views, recordings."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import SlackError as SlackError  # re-exported: handlers raise it from here
from .paging import Pager

PERMALINK_BASE = "https://emulator.slack.invalid"
APP_ID = "A0EMULATOR"
BOT_ID = "B0EMULATOR"
TEAM_DOMAIN = "emulator"
VERIFICATION_TOKEN = "emulator-verification-token"
DEFAULT_TRIGGER_TTL = 3.0  # views.open: a trigger_id is good for 3 seconds
DEFAULT_FILE_SHARE_DELAY = 1.0  # seconds before a completed upload's share message appears


@dataclass
class Call:
    """One Web API request as the emulator saw it, so tests can assert on what the bot sent."""

    method: str
    args: dict[str, Any]
    status: int
    ok: bool
    error: str | None
    at: float


@dataclass
class ResponseCall:
    """One POST to a response_url, recorded because those never reach the Web API."""

    url: str
    body: dict[str, Any]
    at: float


@dataclass
class User:
    """A workspace member that users.info can describe."""

    id: str
    name: str
    real_name: str
    is_bot: bool = False
    email: str | None = None
    deleted: bool = False
    is_restricted: bool = False
    is_ultra_restricted: bool = False

    def to_api(self, team_id: str, *, with_email: bool = False) -> dict[str, Any]:
        """Render the users.info shape so bot code parses the same fields as in production.

        Slack only includes `profile.email` for tokens granted `users:read.email`.
        """
        profile: dict[str, Any] = {"real_name": self.real_name, "display_name": self.name, "image_48": ""}
        if with_email:
            profile["email"] = self.email or f"{self.name}@emulator.invalid"
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "real_name": self.real_name,
            "deleted": self.deleted,
            "is_bot": self.is_bot,
            "is_admin": False,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "tz": "UTC",
            "profile": profile,
        }


@dataclass
class Message:
    """A message in a channel, keeping its edit history so tests can see what changed."""

    ts: str
    user: str
    text: str
    blocks: list[Any] | None = None
    metadata: dict[str, Any] | None = None
    thread_ts: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    edited: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)
    bot_id: str | None = None
    ephemeral_to: str | None = None
    reply_count: int = 0

    def to_api(self, include_metadata: bool = False) -> dict[str, Any]:
        """Render the conversations.history message shape."""
        out: dict[str, Any] = {"type": "message", "ts": self.ts, "user": self.user, "text": self.text}
        if self.bot_id:
            out["bot_id"] = self.bot_id
            out["app_id"] = APP_ID
        if self.blocks is not None:
            out["blocks"] = self.blocks
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if self.reply_count:
            out["reply_count"] = self.reply_count
        if self.files:
            out["files"] = self.files
            out["upload"] = True
        if self.edited:
            out["edited"] = {
                "user": self.user,
                "ts": self.history[-1]["edited_ts"] if self.history else self.ts,
            }
        if self.reactions:
            out["reactions"] = [
                {"name": n, "users": list(u), "count": len(u)} for n, u in self.reactions.items() if u
            ]
        if include_metadata and self.metadata is not None:
            out["metadata"] = self.metadata
        return out


@dataclass
class Channel:
    """A conversation (public/private channel or IM) with its members, messages and pins."""

    id: str
    name: str
    is_private: bool
    creator: str
    created: int
    members: set[str] = field(default_factory=set)
    topic: str = ""
    purpose: str = ""
    messages: list[Message] = field(default_factory=list)
    pins: set[str] = field(default_factory=set)
    archived: bool = False
    is_im: bool = False
    is_general: bool = False  # the workspace's #general: it can never be archived
    ephemerals: list[Message] = field(default_factory=list)

    def find(self, ts: str) -> Message | None:
        """Look up a message (thread replies included) by its ts."""
        for msg in self.messages:
            if msg.ts == ts:
                return msg
        return None

    def to_api(self, viewer: str) -> dict[str, Any]:
        """Render the conversations.info channel shape as seen by `viewer`."""
        out: dict[str, Any] = {
            "id": self.id,
            "created": self.created,
            "is_archived": self.archived,
            "is_im": self.is_im,
            "is_member": viewer in self.members,
            "is_org_shared": False,
            "is_ext_shared": False,
            "context_team_id": "",
        }
        if self.is_im:
            out["user"] = next((m for m in sorted(self.members) if m != viewer), viewer)
            out["is_open"] = True
            return out
        topic_meta = {"creator": self.creator, "last_set": self.created}
        out.update(
            {
                "name": self.name,
                "name_normalized": self.name,
                "is_channel": True,
                "is_group": False,
                "is_mpim": False,
                "is_private": self.is_private,
                "is_general": self.is_general,
                "creator": self.creator,
                "num_members": len(self.members),
                "topic": {"value": self.topic, **topic_meta},
                "purpose": {"value": self.purpose, **topic_meta},
            }
        )
        return out


@dataclass
class UploadedFile:
    """A file announced via files.getUploadURLExternal, its bytes, and where it was shared."""

    id: str
    filename: str
    title: str
    content: bytes
    channel_ids: list[str] = field(default_factory=list)
    length: int = 0
    uploaded: bool = False
    completed: bool = False

    def to_api(self, base_url: str) -> dict[str, Any]:
        """Render the file object shape returned by files.completeUploadExternal."""
        return {
            "id": self.id,
            "name": self.filename,
            "title": self.title,
            "size": len(self.content),
            "mimetype": "application/octet-stream",
            "channels": list(self.channel_ids),
            "url_private": f"{base_url}files/{self.id}",
            "permalink": f"{PERMALINK_BASE}/files/{self.id}",
        }


@dataclass
class Trigger:
    """A trigger_id the emulator issued; views.open may exchange it once within the TTL."""

    user_id: str
    issued_at: float
    used: bool = False


@dataclass
class ResponseTarget:
    """Where a response_url posts land (the channel, the user, and the message a click came from)."""

    channel_id: str | None
    user_id: str | None
    message_ts: str | None


class EmulatorState:
    """All mutable emulator state behind one re-entrant lock; never sleep while holding it."""

    def __init__(self, *, bot_user_id: str, team_id: str) -> None:
        self.lock = threading.RLock()
        self.bot_user_id = bot_user_id
        self.team_id = team_id
        self.base_url = ""
        self.manifest: dict[str, Any] = {}
        self.trigger_ttl = DEFAULT_TRIGGER_TTL
        self.file_share_delay = DEFAULT_FILE_SHARE_DELAY
        self.token_revoked = False
        self.pager = Pager()
        self._timers: list[threading.Timer] = []
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.usergroups: dict[str, tuple[str, list[str]]] = {}
        self.files: dict[str, UploadedFile] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.triggers: dict[str, Trigger] = {}
        self.response_targets: dict[str, ResponseTarget] = {}
        self.calls: list[Call] = []
        self.responses: list[ResponseCall] = []
        self._counter = 0
        self._last_ts_us = 0
        self.users[bot_user_id] = User(bot_user_id, "incidentbot", "Incident Bot", is_bot=True)
        for n in range(1, 10):
            self.users[f"U{n}"] = User(f"U{n}", f"user{n}", f"User {n}")

    def granted_scopes(self) -> list[str]:
        """The bot scopes the installed app's manifest asked for (what Slack granted at install)."""
        scopes = ((self.manifest.get("oauth_config") or {}).get("scopes") or {}).get("bot") or []
        return [str(s) for s in scopes]

    def feature(self, *path: str) -> Any:
        """A value under the manifest's `features` (e.g. "app_home", "messages_tab_enabled"), or None."""
        node: Any = self.manifest.get("features") or {}
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        return node

    def next_id(self, prefix: str) -> str:
        """Mint a Slack-looking id (C0…, D0…, V0…, F0…) that is unique for this emulator."""
        with self.lock:
            self._counter += 1
            return f"{prefix}0{self._counter:08X}"

    def next_ts(self) -> str:
        """Mint a message ts that is strictly greater than every earlier one, like Slack guarantees."""
        with self.lock:
            now_us = int(time.time() * 1_000_000)
            self._last_ts_us = max(now_us, self._last_ts_us + 1)
            return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    def new_trigger(self, user_id: str) -> str:
        """Issue a trigger_id bound to a user, as Slack does on every interaction."""
        with self.lock:
            self._counter += 1
            trigger_id = f"{int(time.time())}.{self._counter}.{secrets.token_hex(8)}"
            self.triggers[trigger_id] = Trigger(user_id, time.monotonic())
        return trigger_id

    def exchange_trigger(self, trigger_id: str | None) -> Trigger:
        """Consume a trigger_id or raise the error Slack would return for it."""
        trig = self.triggers.get(trigger_id or "")
        if trig is None:
            raise SlackError("invalid_trigger_id")
        if trig.used:
            raise SlackError("exchanged_trigger_id")
        if time.monotonic() - trig.issued_at > self.trigger_ttl:
            raise SlackError("expired_trigger_id")
        trig.used = True
        return trig

    def add_channel(
        self, name: str, *, private: bool = False, members: set[str] | None = None, creator: str | None = None
    ) -> Channel:
        """Create a channel directly in state (used by setup helpers and conversations.create)."""
        with self.lock:
            chan = Channel(
                id=self.next_id("C"),
                name=name,
                is_private=private,
                creator=creator or self.bot_user_id,
                created=int(time.time()),
                members=set(members or ()),
            )
            self.channels[chan.id] = chan
            return chan

    def channel_by_name(self, name: str) -> Channel | None:
        """Resolve a channel by name, accepting a leading '#'."""
        wanted = name.lstrip("#")
        with self.lock:
            return next((c for c in self.channels.values() if c.name == wanted and not c.is_im), None)

    def open_im(self, user_id: str) -> Channel:
        """Find or create the bot's DM channel with a user, as posting to a user id does."""
        with self.lock:
            for chan in self.channels.values():
                if chan.is_im and chan.members == {self.bot_user_id, user_id}:
                    return chan
            chan = Channel(
                id=self.next_id("D"),
                name=user_id,
                is_private=True,
                creator=self.bot_user_id,
                created=int(time.time()),
                members={self.bot_user_id, user_id},
                is_im=True,
            )
            self.channels[chan.id] = chan
            return chan

    def post(self, chan: Channel, user: str, text: str, **extra: Any) -> Message:
        """Append a message to a channel (and count it as a thread reply when threaded)."""
        with self.lock:
            msg = Message(ts=self.next_ts(), user=user, text=text, **extra)
            if user == self.bot_user_id:
                msg.bot_id = BOT_ID
            if msg.thread_ts and msg.thread_ts != msg.ts:
                parent = chan.find(msg.thread_ts)
                if parent is not None:
                    parent.reply_count += 1
                    if parent.thread_ts is None:
                        parent.thread_ts = parent.ts
            chan.messages.append(msg)
            return msg

    def later(self, delay: float, action: Callable[[], None]) -> None:
        """Run `action` after `delay` seconds on a timer thread (now, when delay <= 0)."""
        if delay <= 0:
            action()
            return
        timer = threading.Timer(delay, action)
        timer.daemon = True
        with self.lock:
            self._timers = [t for t in self._timers if t.is_alive()]
            self._timers.append(timer)
        timer.start()

    def cancel_later(self) -> None:
        """Drop actions still waiting (the server is stopping)."""
        with self.lock:
            timers, self._timers = self._timers, []
        for timer in timers:
            timer.cancel()

    def record_call(self, call: Call) -> None:
        """Remember a finished Web API request."""
        with self.lock:
            self.calls.append(call)

    def calls_snapshot(self) -> list[Call]:
        """Return calls in arrival order (they are stored at completion, so sort by arrival time)."""
        with self.lock:
            return sorted(self.calls, key=lambda c: c.at)
