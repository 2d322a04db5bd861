"""SlackEmulator: the workspace plus deliveries of Slack traffic to a bot (signed HTTP or Socket Mode)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from .signing import sign_request
from .state import APP_ID, TEAM_DOMAIN, VERIFICATION_TOKEN, Channel, Message
from .workspace import Workspace


@dataclass
class DeliveryResult:
    """What the bot answered to a delivered request (status, body, headers)."""

    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """Decode the body as JSON (None when empty), for asserting on acks and response_actions."""
        return json.loads(self.body) if self.body.strip() else None


class SlackEmulator(Workspace):
    """A local stand-in for Slack: serves the Web API and delivers signed requests to the bot."""

    # -- deliveries to the bot -------------------------------------------------------------------------
    def _deliver(
        self, url: str, body: bytes, content_type: str, retry_num: int | None, retry_reason: str | None
    ) -> DeliveryResult:
        """POST a signed request to the bot and capture its answer (HTTP errors included)."""
        headers = {"Content-Type": content_type, **sign_request(self.signing_secret, body)}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        req = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.delivery_timeout) as resp:  # noqa: S310 - local URL
                return DeliveryResult(resp.status, resp.read().decode("utf-8", "replace"), dict(resp.headers))
        except urllib.error.HTTPError as exc:
            return DeliveryResult(exc.code, exc.read().decode("utf-8", "replace"), dict(exc.headers))

    def _user(self, user_id: str) -> dict[str, Any]:
        """The `user` object interaction payloads carry."""
        user = self.state.users.get(user_id)
        name = user.name if user else user_id.lower()
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def _team(self) -> dict[str, Any]:
        """The `team` object interaction payloads carry."""
        return {"id": self.team_id, "domain": TEAM_DOMAIN}

    def _channel_name(self, channel_id: str) -> str:
        """Channel name as slash commands report it ("directmessage" for IMs)."""
        chan = self.state.channels.get(channel_id)
        if chan is None:
            return "unknown"
        return "directmessage" if chan.is_im else chan.name

    def _message(self, channel_id: str, ts: str) -> Message:
        """A stored message, or a clear error for a test that references a missing one."""
        with self.state.lock:
            chan = self.state.channels.get(channel_id)
            msg = chan.find(ts) if chan else None
        if msg is None:
            raise ValueError(f"no message {ts} in channel {channel_id}")
        return msg

    def send_command(
        self,
        bot_url: str,
        text: str,
        *,
        user_id: str = "U1",
        channel_id: str | None = None,
        command: str = "/incident",
        trigger_id: str | None = None,
        retry_num: int | None = None,
    ) -> DeliveryResult:
        """Deliver a slash command (form-encoded, signed) as Slack does; defaults to #general."""
        form = self._command(text, user_id, channel_id, command, trigger_id)
        body = urlencode(form).encode()
        return self._deliver(bot_url, body, "application/x-www-form-urlencoded", retry_num, "http_timeout")

    def _command(
        self, text: str, user_id: str, channel_id: str | None, command: str, trigger_id: str | None
    ) -> dict[str, str]:
        """A slash command's fields (form fields over HTTP, the envelope payload in Socket Mode)."""
        channel_id = channel_id or self.general_channel_id
        return {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": self._channel_name(channel_id),
            "user_id": user_id,
            "user_name": self._user(user_id)["name"],
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self.new_response_url(channel_id, user_id),
            "trigger_id": trigger_id or self.new_trigger_id(user_id),
        }

    def send_event(
        self,
        bot_url: str,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> DeliveryResult:
        """Deliver an Events API callback (JSON, signed), with retry headers when retry_num is given."""
        body = json.dumps(self._event_callback(event, event_id)).encode()
        return self._deliver(bot_url, body, "application/json", retry_num, retry_reason)

    def _event_callback(self, event: dict[str, Any], event_id: str | None) -> dict[str, Any]:
        """The Events API wrapper around an event (the request body, or the events_api payload)."""
        now = time.time()
        return {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "api_app_id": APP_ID,
            "event": {"event_ts": f"{now:.6f}", **event},
            "type": "event_callback",
            "event_id": event_id or self.state.next_id("Ev"),
            "event_time": int(now),
            "authed_users": [self.bot_user_id],
            "authorizations": [
                {
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }

    def send_interaction(
        self, bot_url: str, payload: dict[str, Any], *, retry_num: int | None = None
    ) -> DeliveryResult:
        """Deliver an interactivity payload as the form field `payload=<json>`."""
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self._deliver(bot_url, body, "application/x-www-form-urlencoded", retry_num, "http_timeout")

    def click_button(
        self,
        bot_url: str,
        *,
        user_id: str,
        channel_id: str,
        message_ts: str,
        action_id: str,
        value: str,
        block_id: str = "b",
    ) -> DeliveryResult:
        """Deliver a block_actions payload for a button on a message."""
        with self.state.lock:
            chan = self.state.channels.get(channel_id)
            msg = chan.find(message_ts) if chan else None
            message = msg.to_api(include_metadata=True) if msg else None
        label = _button_label(message, action_id) if message else action_id
        payload: dict[str, Any] = {
            **self._on_message(user_id, channel_id, message_ts),
            "state": {"values": {}},
            "response_url": self.new_response_url(channel_id, user_id, message_ts),
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": block_id,
                    "text": {"type": "plain_text", "text": label, "emoji": True},
                    "value": value,
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        if message is not None:
            payload["message"] = message
        return self.send_interaction(bot_url, payload)

    def _on_message(self, user_id: str, channel_id: str, message_ts: str) -> dict[str, Any]:
        """What every block_actions payload on a channel message starts with: who, where, a fresh trigger."""
        return {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": False,
            },
            "trigger_id": self.new_trigger_id(user_id),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel_id, "name": self._channel_name(channel_id)},
        }

    def open_home(self, bot_url: str, user_id: str) -> DeliveryResult:
        """Deliver app_home_opened as Slack does when a person opens the app's Home tab.

        The event carries `tab: "home"`, the app's DM with the person as `channel`, and the view last
        published to them, if any (docs.slack.dev/reference/events/app_home_opened).
        """
        with self.state.lock:
            published = self.state.home_views.get(user_id)
            view = {k: v for k, v in published.items() if k != "user_id"} if published else None
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": f"D{user_id}",
            "tab": "home",
        }
        if view is not None:
            event["view"] = view
        return self.send_event(bot_url, event)

    def click_home_button(self, bot_url: str, *, user_id: str, action_id: str, value: str) -> DeliveryResult:
        """Deliver block_actions for a button on the person's published Home view.

        Only a button the view shows can be clicked; a Home tab's click has a `view` container, no
        channel and no response_url (docs.slack.dev/reference/interaction-payloads/block_actions-payload).
        """
        with self.state.lock:
            published = self.state.home_views.get(user_id)
            view = {k: v for k, v in published.items() if k != "user_id"} if published else None
        if view is None:
            raise ValueError(f"{user_id} has no published Home view")
        block_id, label = _view_button(view, action_id, value)
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "container": {"type": "view", "view_id": view["id"]},
            "trigger_id": self.new_trigger_id(user_id),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "view": view,
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": block_id,
                    "text": {"type": "plain_text", "text": label, "emoji": True},
                    "value": value,
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        return self.send_interaction(bot_url, payload)

    def checkbox_payload(
        self,
        *,
        user_id: str,
        channel_id: str,
        message_ts: str,
        block_id: str,
        action_id: str,
        selected: list[str],
    ) -> dict[str, Any]:
        """The block_actions payload Slack sends when someone changes a checkboxes element of a message:
        the element's whole selection afterwards (`selected` are option values), and the message as it is."""
        message = self._message(channel_id, message_ts).to_api(include_metadata=True)
        element = _element(message, block_id, action_id, "checkboxes")
        options = {str(o.get("value")): o for o in element.get("options") or []}
        unknown = [value for value in selected if value not in options]
        if unknown:
            raise ValueError(f"no checkbox option(s) {unknown} in {block_id}/{action_id}")
        chosen = [options[value] for value in selected]
        return {
            **self._on_message(user_id, channel_id, message_ts),
            "message": message,
            "state": {"values": {block_id: {action_id: {"type": "checkboxes", "selected_options": chosen}}}},
            "response_url": self.new_response_url(channel_id, user_id, message_ts),
            "actions": [
                {
                    "type": "checkboxes",
                    "action_id": action_id,
                    "block_id": block_id,
                    "selected_options": chosen,
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }

    def check_boxes(
        self,
        bot_url: str,
        *,
        user_id: str,
        channel_id: str,
        message_ts: str,
        block_id: str,
        action_id: str,
        selected: list[str],
    ) -> DeliveryResult:
        """Deliver a checkboxes change: `selected` is the element's whole selection after the click."""
        payload = self.checkbox_payload(
            user_id=user_id,
            channel_id=channel_id,
            message_ts=message_ts,
            block_id=block_id,
            action_id=action_id,
            selected=selected,
        )
        return self.send_interaction(bot_url, payload)

    def submit_view(
        self, bot_url: str, view_id: str, values: dict[str, dict[str, Any]], *, user_id: str
    ) -> DeliveryResult:
        """Deliver a view_submission built from a stored view and the given state values."""
        with self.state.lock:
            stored = self.state.views.get(view_id)
            if stored is None:
                raise ValueError(f"unknown view {view_id}")
            stored["state"] = {"values": values}
            view = {k: v for k, v in stored.items() if k != "user_id"}
        payload = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user_id),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self.new_trigger_id(user_id),
            "view": json.loads(json.dumps(view)),
            "response_urls": [],
            "is_enterprise_install": False,
        }
        result = self.send_interaction(bot_url, payload)
        answer = result.json() if result.status == 200 and result.body.lstrip().startswith("{") else None
        if isinstance(answer, dict) and answer.get("response_action") == "update" and answer.get("view"):
            with self.state.lock:  # the modal now shows the bot's replacement view
                self.state.views[view_id].update({**answer["view"], "state": {"values": {}}})
        return result

    def message_shortcut(
        self, bot_url: str, *, callback_id: str, user_id: str, channel_id: str, message_ts: str
    ) -> DeliveryResult:
        """Deliver a message_action (message shortcut) for a stored message."""
        msg = self._message(channel_id, message_ts)
        payload = {
            "type": "message_action",
            "token": VERIFICATION_TOKEN,
            "action_ts": f"{time.time():.6f}",
            "team": self._team(),
            "user": {"id": user_id, "name": self._user(user_id)["name"]},
            "channel": {"id": channel_id, "name": self._channel_name(channel_id)},
            "callback_id": callback_id,
            "trigger_id": self.new_trigger_id(user_id),
            "message_ts": message_ts,
            "message": {**msg.to_api(include_metadata=True), "team": self.team_id},
            "response_url": self.new_response_url(channel_id, user_id, message_ts),
        }
        return self.send_interaction(bot_url, payload)

    def react(
        self,
        bot_url: str,
        *,
        user_id: str,
        channel_id: str,
        ts: str,
        reaction: str = "pushpin",
        removed: bool = False,
    ) -> DeliveryResult:
        """Record a user's reaction on a stored message and deliver reaction_added/removed."""
        msg = self._message(channel_id, ts)
        with self.state.lock:
            users = msg.reactions.setdefault(reaction, [])
            if removed and user_id in users:
                users.remove(user_id)
            elif not removed and user_id not in users:
                users.append(user_id)
            chan = self.state.channels[channel_id]
        event = {
            "type": "reaction_removed" if removed else "reaction_added",
            "user": user_id,
            "reaction": reaction,
            "item_user": msg.user,
            "item": {"type": "message", "channel": channel_id, "ts": ts, "channel_type": _channel_type(chan)},
        }
        return self.send_event(bot_url, event)

    # -- Socket Mode deliveries (to an app connected with apps.connections.open) ----------------------
    def socket_connected(self, timeout: float = 10.0) -> bool:
        """Wait until an app holds an open Socket Mode connection (it has been sent `hello`)."""
        return self.socket_mode.wait_connected(timeout)

    def socket_send_command(
        self,
        text: str,
        *,
        user_id: str = "U1",
        channel_id: str | None = None,
        command: str = "/incident",
        trigger_id: str | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Send a slash_commands envelope; return the ack's payload ({} for a bare ack)."""
        payload = self._command(text, user_id, channel_id, command, trigger_id)
        return self._socket_roundtrip("slash_commands", payload, True, timeout)

    def socket_send_event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_attempt: int = 0,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Send an events_api envelope around an event callback; return the ack's payload."""
        payload = self._event_callback(event, event_id)
        reason = "timeout" if retry_attempt else ""
        extra = {"retry_attempt": retry_attempt, "retry_reason": reason}
        return self._socket_roundtrip("events_api", payload, False, timeout, extra)

    def socket_send_interaction(
        self, payload: dict[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        """Send an interactive envelope; return the ack's payload (e.g. a view_submission response_action)."""
        accepts = payload.get("type") in ("view_submission", "block_suggestion")
        return self._socket_roundtrip("interactive", payload, accepts, timeout)

    def _socket_roundtrip(
        self,
        kind: str,
        payload: dict[str, Any],
        accepts: bool,
        timeout: float | None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Send one envelope and wait for its ack; TimeoutError when the app does not acknowledge it."""
        envelope_id = self.socket_mode.send(kind, payload, accepts_response_payload=accepts, **(extra or {}))
        wait = self.delivery_timeout if timeout is None else timeout
        ack = self.socket_mode.wait_ack(envelope_id, wait)
        if ack is None:
            raise TimeoutError(f"no ack for {kind} envelope {envelope_id} within {wait}s")
        return ack.payload or {}


def _channel_type(chan: Channel) -> str:
    """Slack's channel_type field for events."""
    if chan.is_im:
        return "im"
    return "group" if chan.is_private else "channel"


def _element(message: dict[str, Any], block_id: str, action_id: str, kind: str) -> dict[str, Any]:
    """An interactive element of a message, by its block and action ids; a clear error when absent."""
    for block in message.get("blocks") or []:
        if block.get("block_id") != block_id:
            continue
        for element in [*(block.get("elements") or []), block.get("accessory") or {}]:
            if element.get("action_id") == action_id and element.get("type") == kind:
                return dict(element)
    raise ValueError(f"no {kind} {block_id}/{action_id} in message {message.get('ts')}")


def _button_label(message: dict[str, Any], action_id: str) -> str:
    """Find a button's label in a message's blocks so block_actions carries the real text."""

    def walk(node: Any) -> str | None:
        if isinstance(node, list):
            return next((r for r in map(walk, node) if r), None)
        if isinstance(node, dict):
            if node.get("type") == "button" and node.get("action_id") == action_id:
                return str((node.get("text") or {}).get("text", action_id))
            return next((r for r in map(walk, node.values()) if r), None)
        return None

    return walk(message.get("blocks") or []) or action_id


def _view_button(view: dict[str, Any], action_id: str, value: str) -> tuple[str, str]:
    """(block_id, label) of the button with this action_id and value on a view, or ValueError."""
    for n, block in enumerate(view.get("blocks") or []):
        for element in [*(block.get("elements") or []), block.get("accessory") or {}]:
            wanted = element.get("type") == "button" and element.get("action_id") == action_id
            if wanted and element.get("value") == value:
                label = str((element.get("text") or {}).get("text", action_id))
                # Slack mints a block_id for a block published without one.
                return str(block.get("block_id") or f"home{n}"), label
    raise ValueError(f"no button {action_id}={value!r} on view {view.get('id')}")
