"""The Slack implementation of the chat port: one Web API client, Slack errors mapped to their meaning."""

from __future__ import annotations

import json
import logging
import re
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web import SlackResponse

from bot.slack.client import retry_after, timed_out
from commands.errors import (
    ChannelNotFound,
    ChatError,
    ChatRefused,
    ChatUnavailable,
    NameTaken,
    UnknownTarget,
)
from commands.jobs import current_incident
from commands.ports import ChatMessage, FileRef, Message, PostRef

log = logging.getLogger(__name__)

_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")

# Errors that mean "the thing is already as we want it": treat the step as done.
_ALREADY_DONE = {"already_pinned"}
_ALREADY_IN = frozenset({"already_in_channel", "cant_invite_self"})
# Per-person invite errors no retry can fix (left the workspace, a guest, ...): invite the others.
_CANNOT_INVITE = frozenset(
    {
        "user_not_found",
        "user_is_restricted",
        "user_is_ultra_restricted",
        "ura_max_channels",
        "cant_invite",
        "already_in_channel",
        "cant_invite_self",
    }
)
# Slack's own passing failures: worth trying again later. Every other error code is a refusal that
# stays until someone acts (a scope, a token, a setting), so the job stops and the person is told.
_RETRYABLE = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
_GONE = frozenset({"channel_not_found", "is_archived"})
_ALREADY_ARCHIVED = frozenset({"already_archived"})


def classify(method: str, code: str, status: int = 200, body: dict[str, Any] | None = None) -> ChatError:
    """A Slack failure as data: 5xx, 429 and Slack's transient codes may be retried; the rest may not."""
    if status >= 500 or status == 429 or code in _RETRYABLE:
        return ChatUnavailable(method, code, body=body)
    if code in _GONE:
        return ChannelNotFound(method, code, body=body)
    needed = (body or {}).get("needed")
    return ChatRefused(method, code, needed=str(needed) if needed else None, body=body)


def log_failure(failure: ChatError) -> None:
    """One structured line per Slack error: method, code, incident; never arguments or user text."""
    log.warning(
        "slack_error method=%s code=%s retryable=%s incident=%s",
        failure.method,
        failure.code,
        str(failure.retryable).lower(),
        current_incident.get() or "-",
    )


class SlackChat:
    """Chat port over slack_sdk; every method is safe to call again after a failure."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._bot_user_id: str | None = None
        self._channel_ids: dict[str, str] = {}

    def _call(self, method: str, *, expected: frozenset[str] = frozenset(), **kwargs: Any) -> SlackResponse:
        """Call a method; a failure is raised as ChatError data (codes in `expected` are not logged)."""
        try:
            return (
                self.client.api_call(method, json=kwargs)
                if _needs_json(method)
                else self.client.api_call(method, params=kwargs)
            )
        except SlackApiError as exc:
            response = exc.response
            error = str(response.get("error", "")) if response is not None else ""
            status = response.status_code if response is not None else 0
            if error in _ALREADY_DONE:
                return response
            if error == "name_taken":
                raise NameTaken(kwargs.get("name", "")) from None
            body = response.data if response is not None and isinstance(response.data, dict) else {}
            failure = classify(method, error or f"http_{status}", status, body)
            if status == 429 and response is not None:
                failure.retry_after = retry_after(response.headers)
        except (SlackRequestError, URLError, TimeoutError, OSError) as exc:
            failure = ChatUnavailable(method, "timeout" if timed_out(exc) else "connection_failed")
            if failure.code == "timeout":
                # Slack may still act on it: give it as long again before a retry looks for what landed.
                failure.retry_after = int(self.client.timeout)
        if failure.code not in expected:
            log_failure(failure)
        raise failure from None

    def bot_user_id(self) -> str:
        if self._bot_user_id is None:
            self._bot_user_id = str(self._call("auth.test")["user_id"])
        return self._bot_user_id

    def create_channel(self, name: str, *, private: bool) -> str:
        return str(self._call("conversations.create", name=name, is_private=private)["channel"]["id"])

    def find_own_channel(self, name: str) -> str | None:
        me = self.bot_user_id()
        for page in self._pages(
            "conversations.list",
            "channels",
            types="public_channel,private_channel",
            exclude_archived=True,
            limit=1000,
        ):
            for channel in page:
                if channel.get("name") == name and channel.get("creator") == me:
                    return str(channel["id"])
        return None

    def invite(self, channel: str, users: Sequence[str]) -> None:
        """Invite everyone who can be invited, however many cannot (already in, left, guests)."""
        self.invite_each(channel, users)

    def invite_each(self, channel: str, users: Sequence[str]) -> dict[str, str]:
        """Invite everyone who can be invited; return who Slack refused and why (already in is not refused).

        Slack refuses a whole batch for one such person unless `force`, which invites the others and
        names the refused ones in `errors`; should a refusal leave the others out anyway, they are asked
        for once more (harmless: anyone already in is reported, not invited twice).
        """
        wanted = list(dict.fromkeys(users))
        refused_all: dict[str, str] = {}
        while wanted:
            try:
                response = self._call(
                    "conversations.invite",
                    expected=_CANNOT_INVITE,
                    channel=channel,
                    users=",".join(wanted),
                    force=True,
                )
                # Forced: the others are in; those refused are named in `errors`.
                body = response.data if isinstance(response.data, dict) else {}
                refused_all.update(_refused_invitees(body))
                break
            except ChatRefused as exc:
                if exc.code not in _CANNOT_INVITE:
                    raise
                refused = _refused_invitees(exc.body) or ({wanted[0]: exc.code} if len(wanted) == 1 else {})
            if not refused:
                for user in wanted:  # refused without saying whom: one at a time
                    refused_all.update(self.invite_each(channel, [user]))
                break
            refused_all.update(refused)
            skipped = sorted({code for code in refused.values() if code not in _ALREADY_IN})
            if skipped:
                log.warning("could not invite %d person(s) (%s); inviting the others", len(refused), skipped)
            rest = [user for user in wanted if user not in refused]
            if len(rest) == len(wanted):
                break
            wanted = rest
        return {user: code for user, code in refused_all.items() if code not in _ALREADY_IN}

    def members(self, channel: str) -> list[str]:
        """Everyone in the channel, page by page, without the bot itself."""
        me = self.bot_user_id()
        found: list[str] = []
        for page in self._pages("conversations.members", "members", channel=channel, limit=200):
            found += [str(user) for user in page if user != me]
        return list(dict.fromkeys(found))

    def rename_channel(self, channel: str, name: str) -> str:
        """Rename; Slack may adjust the name to its rules, so the name it answers with is the one kept."""
        response = self._call("conversations.rename", channel=channel, name=name)
        return str((response.get("channel") or {}).get("name") or name)

    def archive(self, channel: str) -> None:
        """Archive a channel; Slack's `already_archived` (someone did it by hand, or a retry) is done."""
        try:
            self._call("conversations.archive", expected=_ALREADY_ARCHIVED, channel=channel)
        except ChatRefused as exc:
            if exc.code not in _ALREADY_ARCHIVED:
                raise

    def set_topic(self, channel: str, topic: str) -> None:
        self._call("conversations.setTopic", channel=channel, topic=topic)

    def post(self, channel: str, message: Message) -> PostRef:
        args = _message_args(message)
        try:
            response = self._call(
                "chat.postMessage", expected=frozenset({"not_in_channel"}), channel=channel, **args
            )
        except ChatRefused as exc:
            if exc.code != "not_in_channel":
                raise
            # A public channel the bot has not joined yet: join once (by id: only posting takes a
            # name), then post.
            channel = self.channel_id(channel)
            self._call("conversations.join", channel=channel)
            response = self._call("chat.postMessage", channel=channel, **args)
        return PostRef(channel=str(response["channel"]), ts=str(response["ts"]))

    def channel_id(self, ref: str) -> str:
        """The id of a channel given by id or by (#)name; names are looked up once and remembered."""
        if _CHANNEL_ID.match(ref):
            return ref
        name = ref.lstrip("#")
        if name not in self._channel_ids:
            for page in self._pages(
                "conversations.list", "channels", types="public_channel", exclude_archived=True, limit=1000
            ):
                found = next((str(c["id"]) for c in page if c.get("name") == name), None)
                if found is not None:
                    self._channel_ids[name] = found
                    break
            else:
                raise ChannelNotFound("conversations.list", "channel_not_found")
        return self._channel_ids[name]

    def find_post(
        self, channel: str, event_type: str, incident_id: int, oldest: datetime, key: object = None
    ) -> str | None:
        channel = self.channel_id(channel)  # history takes ids only; the announce channel may be a name
        for msg in self._own_messages(channel, oldest, include_all_metadata=True):
            meta = msg.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if (
                meta.get("event_type") == event_type
                and payload.get("incident_id") == incident_id
                and payload.get("key") == key
            ):
                return str(msg["ts"])
        return None

    def update(self, channel: str, ts: str, message: Message) -> None:
        self._call("chat.update", channel=channel, ts=ts, **_message_args(message))

    def pin(self, channel: str, ts: str) -> None:
        self._call("pins.add", channel=channel, timestamp=ts)

    def notify(self, channel: str, user: str, text: str) -> None:
        self._call("chat.postEphemeral", channel=channel, user=user, text=text)

    def find_direct_message(
        self, user: str, event_type: str, incident_id: int, oldest: datetime, key: object
    ) -> PostRef | None:
        """Look in the bot's DM with the person for its own message with this metadata."""
        channel = str(self._call("conversations.open", users=user)["channel"]["id"])
        ts = self.find_post(channel, event_type, incident_id, oldest, key)
        return PostRef(channel, ts) if ts is not None else None

    def direct_message(self, user: str, message: Message) -> PostRef:
        """Write to a person in their DM with the bot (posting to a user id opens it)."""
        return self.post(user, message)

    def tell(self, user: str, text: str) -> None:
        """A plain DM reply, where Slack gives no response_url (modal submissions)."""
        self.direct_message(user, Message(text=text, event_type="incident_notice"))

    def group_members(self, group_id: str) -> list[str]:
        """A user group's members; UnknownTarget only when Slack says there is no such group."""
        unknown = frozenset({"no_such_subteam", "invalid_usergroup", "subteam_not_found"})
        try:
            response = self._call("usergroups.users.list", expected=unknown, usergroup=group_id)
        except ChatRefused as exc:
            if exc.code in unknown:
                raise UnknownTarget(f"I can't find the user group `{group_id}`.") from None
            raise
        return [str(u) for u in response["users"]]

    def user_exists(self, user_id: str) -> bool:
        try:
            user = self._call("users.info", expected=frozenset({"user_not_found"}), user=user_id)["user"]
        except ChatRefused as exc:
            if exc.code == "user_not_found":
                return False
            raise
        return not user.get("deleted", False)

    def user_name(self, user_id: str) -> str | None:
        """Display name, else real name, else handle; a failed look-up only costs the name."""
        try:
            user = self._call("users.info", user=user_id)["user"]
        except ChatError:
            return None  # logged by _call; the draft shows the member id instead
        profile = user.get("profile") or {}
        for name in (profile.get("display_name"), profile.get("real_name"), user.get("name")):
            if isinstance(name, str) and name.strip():
                return name.strip()[:200]
        return None

    def upload_file(
        self, channel: str, filename: str, content: bytes, title: str, message: Message
    ) -> FileRef:
        """Slack's external upload: reserve a URL, send the bytes there, then share the file."""
        ticket = self._call("files.getUploadURLExternal", filename=filename, length=len(content))
        file_id = str(ticket["file_id"])
        self._send_bytes(str(ticket["upload_url"]), content)
        done = self._call(
            "files.completeUploadExternal",
            files=json.dumps([{"id": file_id, "title": title}]),
            channel_id=channel,
            initial_comment=message.text,
        )
        shared: dict[str, Any] = next((f for f in done.get("files") or [] if f.get("id") == file_id), {})
        return FileRef(channel=channel, file_id=file_id, permalink=str(shared.get("permalink") or ""))

    def _send_bytes(self, url: str, content: bytes) -> None:
        """POST the raw bytes with the client's own timeout, proxy and TLS settings."""
        request = urllib.request.Request(url, data=content, method="POST")
        handlers: list[urllib.request.BaseHandler] = [urllib.request.HTTPSHandler(context=self.client.ssl)]
        if self.client.proxy:
            handlers.append(
                urllib.request.ProxyHandler({"http": self.client.proxy, "https": self.client.proxy})
            )
        try:
            with urllib.request.build_opener(*handlers).open(
                request, timeout=self.client.timeout
            ) as response:
                status = response.status
        except (URLError, TimeoutError, OSError) as exc:
            failure: ChatError = ChatUnavailable(
                "file upload", "timeout" if timed_out(exc) else "connection_failed"
            )
            log_failure(failure)
            raise failure from None
        if status != 200:
            failure = classify("file upload", f"http_{status}", status)
            log_failure(failure)
            raise failure

    def find_file(self, channel: str, filename: str, size: int, oldest: datetime) -> FileRef | None:
        for msg in self._own_messages(channel, oldest):
            for f in msg.get("files") or []:
                if f.get("name") == filename and f.get("size") == size:
                    return FileRef(
                        channel=channel, file_id=str(f["id"]), permalink=str(f.get("permalink") or "")
                    )
        return None

    def _own_messages(self, channel: str, oldest: datetime, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """The bot's own messages in a channel since `oldest` (a second early, for clock skew)."""
        me = self.bot_user_id()
        for page in self._pages(
            "conversations.history",
            "messages",
            channel=channel,
            limit=200,
            oldest=f"{oldest.timestamp() - 1:.6f}",
            **kwargs,
        ):
            yield from (msg for msg in page if msg.get("user") == me)

    def message(self, channel: str, ts: str) -> ChatMessage | None:
        """One message (top-level or in a thread) as it is now, or None when it is gone."""
        response = self._call(
            "conversations.history", channel=channel, latest=ts, oldest=ts, inclusive=True, limit=1
        )
        found = [m for m in response.get("messages") or [] if m.get("ts") == ts]
        if not found:
            # A thread reply: Slack answers with the whole thread (parent first), a page at a time.
            for page in self._pages("conversations.replies", "messages", channel=channel, ts=ts, limit=200):
                found = [m for m in page if m.get("ts") == ts]
                if found:
                    break
        if not found:
            return None
        msg = found[0]
        reactions = {
            str(r.get("name")): [str(u) for u in r.get("users") or []] for r in msg.get("reactions") or []
        }
        return ChatMessage(msg.get("user") or msg.get("bot_id"), str(msg.get("text") or ""), reactions)

    def permalink(self, channel: str, ts: str) -> str | None:
        try:
            return str(self._call("chat.getPermalink", channel=channel, message_ts=ts)["permalink"])
        except ChatError:
            return None  # a timeline entry without a link is better than none at all

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        self._call("views.open", trigger_id=trigger_id, view=view)

    def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        """Replace what this person's Home tab shows (views.publish; Tier 4, about 100 a minute)."""
        self._call("views.publish", user_id=user_id, view=view)

    def _pages(self, method: str, key: str, **kwargs: Any) -> Iterator[list[dict[str, Any]]]:
        cursor = None
        while True:
            response = self._call(method, **kwargs, **({"cursor": cursor} if cursor else {}))
            yield list(response.get(key) or [])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return


def _refused_invitees(body: Mapping[str, Any]) -> dict[str, str]:
    """Who an invite refused and why, from the per-user `errors` Slack lists."""
    refused: dict[str, str] = {}
    for entry in body.get("errors") or []:
        if isinstance(entry, dict) and entry.get("user") and not entry.get("ok", False):
            refused[str(entry["user"])] = str(entry.get("error") or "cant_invite")
    return refused


def _needs_json(method: str) -> bool:
    """Methods whose arguments carry nested structures (blocks, metadata) go as JSON bodies."""
    return method in ("chat.postMessage", "chat.update", "views.open", "views.publish")


def _message_args(message: Message) -> dict[str, Any]:
    args: dict[str, Any] = {
        "text": message.text,
        "metadata": {"event_type": message.event_type, "event_payload": message.event_payload},
        "unfurl_links": False,
        "unfurl_media": False,
    }
    if message.blocks is not None:
        args["blocks"] = message.blocks
    return args
