"""The Slack implementation of the chat port: one Web API client, Slack errors mapped to their meaning."""

from __future__ import annotations

import json
import logging
import re
import urllib.request
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.web import SlackResponse

from bot.keepalive import KeepAliveWebClient
from commands.errors import ChannelNotFound, ChatUnavailable, NameTaken, UnknownTarget
from commands.ports import FileRef, Message, PostRef

log = logging.getLogger(__name__)

_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")

# Errors that mean "the thing is already as we want it": treat the step as done.
_ALREADY_DONE = {"already_in_channel", "cant_invite_self", "already_pinned"}
# Invite errors no retry can fix (the person left the workspace since being named): skip them.
_CANNOT_INVITE = ("user_not_found", "user_is_deactivated", "user_is_restricted", "cant_invite")


def _timed_out(error: Exception | None) -> bool:
    """A read timeout, bare or wrapped in URLError by the transport."""
    reason = error.reason if isinstance(error, URLError) else error
    return isinstance(reason, TimeoutError) or "timed out" in str(reason)


class ConnectionFailureRetryHandler(ConnectionErrorRetryHandler):
    """Retry refused or dropped connections, never timeouts: a timed-out post may have landed.

    Resending it here would post twice; the job's own retry looks the post up by metadata first.
    """

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if _timed_out(error):
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)


def make_web_client(token: str, base_url: str, *, timeout: int = 10) -> WebClient:
    """The process's one Web API client: retries connection errors, 5xx and 429 (honouring Retry-After)."""
    return KeepAliveWebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            ConnectionFailureRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


class SlackChat:
    """Chat port over slack_sdk; every method is safe to call again after a failure."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._bot_user_id: str | None = None
        self._channel_ids: dict[str, str] = {}

    def _call(self, method: str, **kwargs: Any) -> SlackResponse:
        try:
            return (
                self.client.api_call(method, json=kwargs)
                if _needs_json(method)
                else self.client.api_call(method, params=kwargs)
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error", "")) if exc.response is not None else ""
            status = exc.response.status_code if exc.response is not None else 0
            if error in _ALREADY_DONE:
                return exc.response
            if error == "name_taken":
                raise NameTaken(kwargs.get("name", "")) from None
            if error in ("channel_not_found", "is_archived"):
                raise ChannelNotFound(error) from None
            raise ChatUnavailable(f"{method}: {error or status}") from None
        except (SlackRequestError, URLError, TimeoutError, OSError) as exc:
            raise ChatUnavailable(f"{method}: {type(exc).__name__}") from None

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
        try:
            self._call("conversations.invite", channel=channel, users=",".join(users))
        except ChatUnavailable as exc:
            if not any(code in str(exc) for code in _CANNOT_INVITE):
                raise
            if len(users) > 1:
                # Slack refuses the whole batch for one bad member: invite the others one by one.
                for user in users:
                    self.invite(channel, [user])
                return
            log.warning("could not invite into %s (%s); carrying on", channel, exc)

    def set_topic(self, channel: str, topic: str) -> None:
        self._call("conversations.setTopic", channel=channel, topic=topic)

    def post(self, channel: str, message: Message) -> PostRef:
        args = _message_args(message)
        try:
            response = self._call("chat.postMessage", channel=channel, **args)
        except ChatUnavailable as exc:
            if "not_in_channel" not in str(exc):
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
                raise ChannelNotFound(f"no public channel named {name}")
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

    def direct_message(self, user: str, message: Message) -> PostRef:
        """Write to a person in their DM with the bot (posting to a user id opens it)."""
        return self.post(user, message)

    def tell(self, user: str, text: str) -> None:
        """A plain DM reply, where Slack gives no response_url (modal submissions)."""
        self.direct_message(user, Message(text=text, event_type="incident_notice"))

    def group_members(self, group_id: str) -> list[str]:
        try:
            return [str(u) for u in self._call("usergroups.users.list", usergroup=group_id)["users"]]
        except ChatUnavailable as exc:
            if "no_such_subteam" in str(exc) or "invalid" in str(exc):
                raise UnknownTarget(f"I can't find the user group `{group_id}`.") from None
            raise

    def user_exists(self, user_id: str) -> bool:
        try:
            user = self._call("users.info", user=user_id)["user"]
        except ChatUnavailable as exc:
            if "user_not_found" in str(exc):
                return False
            raise
        return not user.get("deleted", False)

    def user_name(self, user_id: str) -> str | None:
        """Display name, else real name, else handle; a failed look-up only costs the name."""
        try:
            user = self._call("users.info", user=user_id)["user"]
        except ChatUnavailable as exc:
            log.warning("users.info failed (%s); the draft shows the user id", type(exc).__name__)
            return None
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
            raise ChatUnavailable(f"file upload: {type(exc).__name__}") from None
        if status != 200:
            raise ChatUnavailable(f"file upload: HTTP {status}")

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

    def message(self, channel: str, ts: str) -> tuple[str | None, str] | None:
        """Author and text of one message (top-level or in a thread), or None when it is gone."""
        response = self._call(
            "conversations.history", channel=channel, latest=ts, oldest=ts, inclusive=True, limit=1
        )
        found = [m for m in response.get("messages") or [] if m.get("ts") == ts]
        if not found:
            replies = self._call("conversations.replies", channel=channel, ts=ts, inclusive=True, limit=1)
            found = [m for m in replies.get("messages") or [] if m.get("ts") == ts]
        if not found:
            return None
        return (found[0].get("user") or found[0].get("bot_id"), str(found[0].get("text") or ""))

    def permalink(self, channel: str, ts: str) -> str | None:
        try:
            return str(self._call("chat.getPermalink", channel=channel, message_ts=ts)["permalink"])
        except ChatUnavailable:
            return None  # a timeline entry without a link is better than none at all

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        self._call("views.open", trigger_id=trigger_id, view=view)

    def _pages(self, method: str, key: str, **kwargs: Any) -> Iterator[list[dict[str, Any]]]:
        cursor = None
        while True:
            response = self._call(method, **kwargs, **({"cursor": cursor} if cursor else {}))
            yield list(response.get(key) or [])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return


def _needs_json(method: str) -> bool:
    """Methods whose arguments carry nested structures (blocks, metadata) go as JSON bodies."""
    return method in ("chat.postMessage", "chat.update", "views.open")


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
