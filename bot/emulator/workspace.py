"""Workspace: the emulator's server plus state accessors and setup helpers (users, channels, triggers)."""

from __future__ import annotations

from typing import Any

from .server import EmulatorServer
from .state import Channel, ResponseTarget, UploadedFile, User
from .transcript import render_transcript


class Workspace(EmulatorServer):
    """The emulated workspace as tests set it up and inspect it; SlackEmulator adds deliveries."""

    # -- state -----------------------------------------------------------------------------------------
    @property
    def channels(self) -> dict[str, Channel]:
        """Channels by id (a snapshot dict of live Channel objects)."""
        with self.state.lock:
            return dict(self.state.channels)

    @property
    def users(self) -> dict[str, User]:
        """Users by id."""
        with self.state.lock:
            return dict(self.state.users)

    @property
    def files(self) -> dict[str, UploadedFile]:
        """Uploaded files by id."""
        with self.state.lock:
            return dict(self.state.files)

    @property
    def views(self) -> dict[str, dict[str, Any]]:
        """Opened/updated views by id, each with the opener's "user_id"."""
        with self.state.lock:
            return dict(self.state.views)

    @property
    def trigger_ttl(self) -> float:
        """Seconds a trigger_id stays exchangeable (Slack: 3)."""
        return self.state.trigger_ttl

    @trigger_ttl.setter
    def trigger_ttl(self, seconds: float) -> None:
        self.state.trigger_ttl = seconds

    @property
    def file_share_delay(self) -> float:
        """Seconds before a completed upload's share message appears in its channel (0: at once)."""
        return self.state.file_share_delay

    @file_share_delay.setter
    def file_share_delay(self, seconds: float) -> None:
        self.state.file_share_delay = seconds

    @property
    def page_cap(self) -> int:
        """Most items one page of a list method carries, whatever the `limit` (Slack may return fewer)."""
        return self.state.pager.page_cap

    @page_cap.setter
    def page_cap(self, items: int) -> None:
        self.state.pager.page_cap = items

    def add_user(
        self,
        user_id: str,
        name: str,
        real_name: str | None = None,
        email: str | None = None,
        *,
        deleted: bool = False,
        restricted: bool = False,
        ultra_restricted: bool = False,
    ) -> None:
        """Make a user known to users.info: a member, a deactivated account, or a (single-channel) guest."""
        user = User(user_id, name, real_name or name, email=email, deleted=deleted)
        user.is_restricted = restricted or ultra_restricted  # Slack flags single-channel guests as both
        user.is_ultra_restricted = ultra_restricted
        with self.state.lock:
            self.state.users[user_id] = user

    def add_channel(
        self, name: str, private: bool = False, members: set[str] | None = None, *, bot_member: bool = True
    ) -> str:
        """Create a channel (the bot is a member unless bot_member=False) and return its id."""
        if self.state.channel_by_name(name) is not None:
            raise ValueError(f"channel #{name} already exists")
        wanted = set(members or ()) | ({self.bot_user_id} if bot_member else set())
        return self.state.add_channel(name, private=private, members=wanted, creator="U1").id

    def add_usergroup(self, group_id: str, handle: str, users: list[str]) -> None:
        """Define a user group for usergroups.users.list."""
        with self.state.lock:
            self.state.usergroups[group_id] = (handle, list(users))

    def channel_by_name(self, name: str) -> Channel | None:
        """Find a channel by name (with or without '#')."""
        return self.state.channel_by_name(name)

    def post_as_user(self, channel_id: str, user_id: str, text: str, thread_ts: str | None = None) -> str:
        """Put a human's message in a channel (no event is delivered) and return its ts."""
        with self.state.lock:
            return self.state.post(self.state.channels[channel_id], user_id, text, thread_ts=thread_ts).ts

    def add_reaction(self, channel_id: str, ts: str, name: str, user_id: str) -> None:
        """Put a person's reaction on a stored message (no event is delivered: see `react`)."""
        with self.state.lock:
            msg = self.state.channels[channel_id].find(ts)
            if msg is None:
                raise ValueError(f"no message {ts} in channel {channel_id}")
            users = msg.reactions.setdefault(name, [])
            if user_id not in users:
                users.append(user_id)

    def new_trigger_id(self, user_id: str = "U1") -> str:
        """Issue a fresh trigger_id that views.open will accept once within trigger_ttl."""
        return self.state.new_trigger(user_id)

    def new_response_url(
        self, channel_id: str | None = None, user_id: str | None = None, message_ts: str | None = None
    ) -> str:
        """Mint a response_url on this server; posts to it are recorded and shown in the channel."""
        url_id = self.state.next_id("R").lower()
        with self.state.lock:
            self.state.response_targets[url_id] = ResponseTarget(channel_id, user_id, message_ts)
        return f"{self.base_url}response/{url_id}"

    def transcript(self, channel_ids: list[str] | None = None) -> str:
        """Readable text of what each channel shows."""
        return render_transcript(self.state, channel_ids)
