"""The small ports the incident actions run over: a clock, a chat, a presenter and the incident settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from commands.views import IncidentView


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time as timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class Message:
    """A chat message as the actions see it: fallback text, optional blocks, and metadata for other tools."""

    text: str
    event_type: str
    event_payload: dict[str, Any] = field(default_factory=dict)
    blocks: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class ChatMessage:
    """Someone's message as Slack has it now: author, text, and who reacted with what."""

    author: str | None
    text: str
    reactions: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class PostRef:
    """Where a posted message landed: the channel id (even when posted by name) and its ts."""

    channel: str
    ts: str


@dataclass(frozen=True)
class FileRef:
    """A file the bot shared: the channel it went to, Slack's file id, and the link people open."""

    channel: str
    file_id: str
    permalink: str


class Chat(Protocol):
    """What the bot needs from Slack, as verbs."""

    def create_channel(self, name: str, *, private: bool) -> str:
        """Create a channel and return its id; raise NameTaken when the name is in use."""
        ...

    def find_own_channel(self, name: str) -> str | None:
        """Return the id of a channel with this name that the bot itself created (crash recovery)."""
        ...

    def invite(self, channel: str, users: Sequence[str]) -> None: ...

    def set_topic(self, channel: str, topic: str) -> None: ...

    def post(self, channel: str, message: Message) -> PostRef:
        """Post and return where it landed; raise ChannelNotFound for an unknown channel."""
        ...

    def find_post(
        self, channel: str, event_type: str, incident_id: int, oldest: datetime, key: object = None
    ) -> str | None:
        """Return the ts of a bot post carrying this metadata (crash recovery), else None."""
        ...

    def find_direct_message(
        self, user: str, event_type: str, incident_id: int, oldest: datetime, key: object
    ) -> PostRef | None:
        """Where a DM carrying this metadata already is (crash or timeout recovery), else None."""
        ...

    def message(self, channel: str, ts: str) -> ChatMessage | None:
        """A message (top-level or in a thread) as it is now, or None when it is gone."""
        ...

    def permalink(self, channel: str, ts: str) -> str | None: ...

    def update(self, channel: str, ts: str, message: Message) -> None: ...

    def pin(self, channel: str, ts: str) -> None: ...

    def notify(self, channel: str, user: str, text: str) -> None:
        """Show one person a message only they can see (ephemeral)."""
        ...

    def direct_message(self, user: str, message: Message) -> PostRef:
        """Write to one person in their direct-message channel with the bot."""
        ...

    def group_members(self, group_id: str) -> list[str]:
        """The members of a user group; raise UnknownTarget when it does not exist."""
        ...

    def user_exists(self, user_id: str) -> bool: ...

    def user_name(self, user_id: str) -> str | None:
        """The name people know the user by; None when Slack cannot say (the caller shows the id)."""
        ...

    def upload_file(
        self, channel: str, filename: str, content: bytes, title: str, message: Message
    ) -> FileRef:
        """Share a file in a channel with `message.text` as its comment (Slack's external upload flow)."""
        ...

    def find_file(self, channel: str, filename: str, size: int, oldest: datetime) -> FileRef | None:
        """Return a file of this name and size the bot shared here since `oldest` (crash recovery)."""
        ...


class Presenter(Protocol):
    """Turns incident state into messages; implemented with templates outside the domain."""

    def topic(self, incident: IncidentView) -> str: ...

    def summary(self, incident: IncidentView) -> Message: ...

    def announcement(self, incident: IncidentView) -> Message: ...

    def resolution(self, incident: IncidentView) -> Message: ...

    def resolution_announcement(self, incident: IncidentView) -> Message: ...

    def status_reply(self, incident: IncidentView) -> str: ...

    def list_reply(self, incidents: Sequence[IncidentView]) -> str: ...

    def update(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...

    def update_announcement(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...

    def escalation(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...

    def escalation_announcement(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...

    def briefing(self, incident: IncidentView, role: str, description: str) -> Message: ...

    def role_assigned(self, incident: IncidentView, payload: dict[str, Any]) -> Message: ...

    def page(self, incident: IncidentView, paged_by: str) -> Message: ...

    def when(self, moment: datetime) -> str:
        """A time as people in the configured zone read it."""
        ...


class IncidentSettings(Protocol):
    """The parts of the operator's config the actions read."""

    announce_channel: str
    channel_prefix: str

    def severity_names(self) -> list[str]: ...

    def severity_description(self, name: str) -> str: ...

    def update_every(self, severity: str) -> timedelta: ...

    def commander_timeout(self, severity: str) -> timedelta: ...

    def role_description(self, role: str) -> str: ...

    def allowed_to(self, action: str) -> list[str]: ...
