"""Slash commands over HTTP answered without Bolt's dispatch: the request gate has already done its part.

Bolt's dispatch for a slash command checks the signature a second time, builds a context, runs the
authorize and self-event middleware, matches every registered listener in turn and wraps the call, which
costs a burst of declares a good share of the web process's CPU. None of it changes what a command
does here: the gate verified the signature (and answered the ssl check) before this is reached, the
bot's single workspace needs no authorization, and the listener receives the same `ack`, `command` and
`context` it gets from Bolt, and a `respond` that posts through kept-alive connections
(bot.slack.response_url). Everything else, and every request in Socket Mode, still goes through Bolt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import Ack, Respond
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient

from bot.pipeline.runtime import Runtime
from bot.slack.response_url import PooledRespond, ResponseUrls

log = logging.getLogger(__name__)

# `respond` is Bolt's Respond under Bolt, and a pooled one (bot.slack.response_url) here.
CommandListener = Callable[[Ack, dict[str, Any], Callable[..., object], dict[str, Any]], None]
FORM = "application/x-www-form-urlencoded"


class DirectCommands:
    """Run the listener of a signed slash command for one of ours, as Bolt would, and give its response."""

    def __init__(self, listeners: Mapping[str, CommandListener], runtime: Runtime, client: WebClient) -> None:
        self._listeners = dict(listeners)
        self._runtime = runtime
        self._client = client  # Bolt's own client: its proxy and SSL settings reach the response_url
        self._urls = ResponseUrls(ssl_context=client.ssl)

    def answer(self, body: str, content_type: str | None) -> BoltResponse | None:
        """The response to a signed request, or None when it is not one of our slash commands."""
        if not content_type or not content_type.startswith(FORM) or body.startswith("{"):
            return None  # JSON: an event
        command = dict(parse_qsl(body, keep_blank_values=True))
        # A `payload` field is an interaction. (Bolt looks for the word anywhere in the body, so under Bolt
        # a command whose text says "payload" finds no listener and gets a 404.)
        listener = None if "payload" in command else self._listeners.get(command.get("command", ""))
        if listener is None:
            return None
        ack = Ack()
        url = command.get("response_url")
        respond: Callable[..., object]
        if self._client.proxy:  # through the proxy as Bolt would; kept connections are for direct ones
            respond = Respond(response_url=url, proxy=self._client.proxy, ssl=self._client.ssl)
        else:
            respond = PooledRespond(self._urls, url)
        try:
            listener(ack, command, respond, {"runtime": self._runtime})
        except Exception as exc:
            # As Bolt's default listener error handler: logged, and a 500 for Slack (never the payload).
            log.exception("slash command listener failed: %s", type(exc).__name__)
            return BoltResponse(status=500)
        return ack.response if ack.response is not None else ack()
