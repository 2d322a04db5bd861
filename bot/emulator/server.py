"""HTTP transport of the emulator: Web API routing, auth, fault knobs, upload and response_url endpoints."""

from __future__ import annotations

import json
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from typing import Any, Self
from urllib.parse import urlsplit

from bot.slack.manifest import build_manifest

from . import scopes
from .access import Args
from .dispatch import dispatch, parse_body
from .knobs import Fault, Knobs
from .loopback import LoopbackServer, Serving
from .ratelimits import RateLimiter
from .socket_mode import PATH_PREFIX, SocketModeHub
from .state import Call, EmulatorState, Message, ResponseCall, SlackError

SERVER_ERROR = "fatal_error"
CONNECTIONS_OPEN = "apps.connections.open"  # the one method that takes the app-level token
DELIVERY_TIMEOUT = 10.0


def apply_response(st: EmulatorState, url_id: str, body: dict[str, Any]) -> bool:
    """Give a response_url post Slack's visible effect (ephemeral, in-channel, replace/delete original)."""
    with st.lock:
        target = st.response_targets.get(url_id)
        if target is None:
            return False
        chan = st.channels.get(target.channel_id or "")
        if chan is None:
            return True
        original = chan.find(target.message_ts) if target.message_ts else None
        text, blocks = str(body.get("text") or ""), body.get("blocks")
        if body.get("delete_original") and original is not None:
            chan.messages.remove(original)
        elif body.get("replace_original") and original is not None:
            original.history.append(
                {"text": original.text, "blocks": original.blocks, "edited_ts": st.next_ts()}
            )
            original.text, original.blocks = text, blocks
        elif body.get("response_type") == "in_channel":
            st.post(chan, st.bot_user_id, text, blocks=blocks, thread_ts=body.get("thread_ts"))
        else:
            eph = Message(ts=st.next_ts(), user=st.bot_user_id, text=text, blocks=blocks)
            eph.ephemeral_to = target.user_id
            chan.ephemerals.append(eph)
        return True


class _HTTPServer(LoopbackServer):
    """The loopback server that knows its emulator."""

    def __init__(
        self,
        addr: tuple[str, int],
        st: EmulatorState,
        knobs: Knobs,
        limiter: RateLimiter,
        token: str,
        hub: SocketModeHub,
    ) -> None:
        super().__init__(addr, _Handler)
        self.st, self.knobs, self.limiter, self.token, self.hub = st, knobs, limiter, token, hub


class _Handler(BaseHTTPRequestHandler):
    """Routes /api/<method>, /upload/<file_id>, /response/<id> and Socket Mode upgrades."""

    server: _HTTPServer
    # Slack keeps HTTP/1.1 connections alive; so does the emulator, so clients that reuse them are exercised.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without this, Nagle's algorithm holds the body until the
    # client's delayed ACK (~40 ms) on a kept-alive connection.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silence per-request logging: request lines can carry query-string tokens."""

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        """Write a JSON (or plain text) response with explicit length."""
        raw = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.send_response(status)
        ctype = "text/plain; charset=utf-8" if isinstance(payload, str) else "application/json; charset=utf-8"
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)

    def _read(self) -> bytes:
        """Read the request body according to Content-Length."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        """Serve GET /api/<method>?... like Slack (arguments from the query string), or a WebSocket."""
        if urlsplit(self.path).path.startswith(PATH_PREFIX):
            self.server.hub.serve(self)  # this thread now runs the WebSocket until it closes
        else:
            self.do_POST()

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        """Dispatch by path prefix."""
        parts = urlsplit(self.path)
        body = self._read()
        if parts.path.startswith("/api/"):
            self._api(parts.path[5:], body, parts.query)
        elif parts.path.startswith("/upload/"):
            self._upload(parts.path[8:], body)
        elif parts.path.startswith("/response/"):
            self._response(parts.path[10:], body)
        else:
            self._send(404, "not found")

    def _api(self, method: str, body: bytes, query: str) -> None:
        """Handle one Web API call: knobs, parsing, auth, rate limits, dispatch, recording."""
        at = time.monotonic()
        st = self.server.st
        delay, fault = self.server.knobs.take(method)
        if delay:
            time.sleep(delay)  # per-request thread, no lock held
        # Slack reports the token's granted scopes, and those the method accepts, on every response.
        headers: dict[str, str] = {
            "x-oauth-scopes": ",".join(st.granted_scopes()),
            "x-accepted-oauth-scopes": scopes.accepted_header(method),
        }
        status = 200
        result: dict[str, Any] = {"ok": True}
        args: Args = {}
        try:
            args = parse_body(self.headers.get("Content-Type", ""), body, query)
            supplied = args.pop("token", None)
            auth = self.headers.get("Authorization", "")
            token = auth[7:].strip() if auth.lower().startswith("bearer ") else supplied
            if fault is not None:
                status, result = fault.status, {"ok": False, "error": fault.error}
                if fault.retry_after is not None:
                    headers["Retry-After"] = str(fault.retry_after)
            elif not token:
                raise SlackError("not_authed")
            elif method == CONNECTIONS_OPEN:
                result = {"ok": True, "url": self.server.hub.open_url(str(token), st.base_url)}
            elif token != self.server.token:
                raise SlackError(
                    "not_allowed_token_type" if token == self.server.hub.app_token else "invalid_auth"
                )
            elif st.token_revoked:
                raise SlackError("token_revoked")
            elif (retry_after := self.server.limiter.admit(method, args)) is not None:
                status, result = 429, {"ok": False, "error": "ratelimited"}
                headers["Retry-After"] = str(retry_after)
            else:
                result = {"ok": True, **dispatch(st, method, args)}
        except SlackError as exc:
            result = {"ok": False, "error": exc.error, **exc.extra}
            if exc.messages:
                result["response_metadata"] = {"messages": exc.messages}
        except (ValueError, UnicodeDecodeError):
            result = {"ok": False, "error": "invalid_form_data"}
        if status == 429:
            self.server.limiter.count(method)
        safe_args = {k: v for k, v in args.items() if not isinstance(v, bytes)}
        st.record_call(Call(method, safe_args, status, bool(result["ok"]), result.get("error"), at))
        self._send(status, result, headers)

    def _upload(self, file_id: str, body: bytes) -> None:
        """Store the raw bytes (or a multipart file part) posted to an upload URL."""
        st = self.server.st
        content = body
        ctype = self.headers.get("Content-Type", "")
        if ctype.lower().startswith("multipart/form-data"):
            parts = [v for v in parse_body(ctype, body, "").values() if isinstance(v, bytes)]
            content = parts[0] if parts else b""
        with st.lock:
            f = st.files.get(file_id)
            if f is None or f.completed:
                self._send(404, "file_not_found")
                return
            f.content, f.uploaded = content, True
        self._send(200, f"OK - {len(content)}")

    def _response(self, url_id: str, body: bytes) -> None:
        """Record a response_url post and apply its effect."""
        st = self.server.st
        try:
            ctype = self.headers.get("Content-Type", "")
            decoded = parse_body(ctype, body, "")
            payload = json.loads(decoded["payload"]) if "payload" in decoded else decoded
        except (ValueError, UnicodeDecodeError):
            self._send(400, {"ok": False, "error": "invalid_payload"})
            return
        with st.lock:
            st.responses.append(ResponseCall(f"{st.base_url}response/{url_id}", payload, time.monotonic()))
        if apply_response(st, url_id, payload):
            self._send(200, {"ok": True})
        else:
            self._send(404, {"ok": False, "error": "no_active_hooks"})


class EmulatorServer:
    """The emulator's server side: lifecycle, recordings and fault knobs (SlackEmulator adds the rest)."""

    def __init__(
        self,
        bot_token: str = "xoxb-emulator",
        signing_secret: str = "emulator-secret",
        app_token: str = "xapp-emulator",
        host: str = "127.0.0.1",
        port: int = 0,
        bot_user_id: str = "UBOT",
        team_id: str = "T0EMU",
        manifest: dict[str, Any] | None = None,
        realistic_rate_limits: bool = False,
    ) -> None:
        self.bot_token = bot_token
        self.signing_secret = signing_secret
        self.host, self.port = host, port
        self.bot_user_id, self.team_id = bot_user_id, team_id
        self.delivery_timeout = DELIVERY_TIMEOUT
        self.state = EmulatorState(bot_user_id=bot_user_id, team_id=team_id)
        # The installed app: its scopes and features decide what Slack allows, as on a real workspace.
        self.state.manifest = manifest if manifest is not None else build_manifest()
        self._knobs = Knobs(self.state.lock)
        self.rate_limiter = RateLimiter()  # tests may replace its clock
        self.rate_limiter.enabled = realistic_rate_limits
        self.socket_mode = SocketModeHub(app_token)  # Socket Mode tickets, connections and envelopes
        self._serving: Serving | None = None
        general = self.state.add_channel("general", members={*self.state.users})
        general.is_general = True
        self.general_channel_id = general.id

    # -- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> Self:
        """Bind the HTTP server (port 0 = any free port) and serve it from a daemon thread."""
        if self._serving is not None:
            return self
        self.socket_mode.reopen()
        httpd = _HTTPServer(
            (self.host, self.port),
            self.state,
            self._knobs,
            self.rate_limiter,
            self.bot_token,
            self.socket_mode,
        )
        self.port = int(httpd.server_address[1])
        self.state.base_url = f"http://{self.host}:{self.port}/"  # before anything can be asked
        self._serving = Serving(httpd, "slack-emulator")
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._serving is None:
            return
        self.socket_mode.close_all()  # server_close() waits for request threads, WebSockets included
        self.state.cancel_later()
        self._serving.stop()
        self._serving = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def app_token(self) -> str:
        """The app-level token (xapp-...) apps.connections.open accepts."""
        return self.socket_mode.app_token

    @app_token.setter
    def app_token(self, token: str) -> None:
        self.socket_mode.app_token = token

    @property
    def base_url(self) -> str:
        """Root URL of the running server (trailing slash)."""
        if not self.state.base_url:
            raise RuntimeError("SlackEmulator is not started")
        return self.state.base_url

    @property
    def api_url(self) -> str:
        """Web API base URL, for slack_sdk.WebClient(base_url=...)."""
        return f"{self.base_url}api/"

    # -- recordings ------------------------------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        """Snapshot of Web API calls in arrival order."""
        return self.state.calls_snapshot()

    def calls_to(self, method: str) -> list[Call]:
        """Calls to one method, in arrival order."""
        return [c for c in self.calls if c.method == method]

    def reset_calls(self) -> None:
        """Forget recorded Web API calls (response_url posts are kept)."""
        with self.state.lock:
            self.state.calls.clear()

    @property
    def responses(self) -> list[ResponseCall]:
        """Snapshot of response_url posts in arrival order."""
        with self.state.lock:
            return list(self.state.responses)

    @property
    def response_count(self) -> int:
        """How many response_url posts arrived, without copying them."""
        with self.state.lock:
            return len(self.state.responses)

    # -- knobs -----------------------------------------------------------------------------------------
    def set_latency(self, seconds: float, method: str | None = None) -> None:
        """Delay answers (to one method, or all when None) without blocking other requests."""
        self._knobs.set_latency(seconds, method)

    def fail(self, method: str, status: int = 500, times: int | None = 1) -> None:
        """Answer the next `times` calls with an HTTP 5xx (None = until cleared)."""
        self._knobs.add(Fault(method, times, status, SERVER_ERROR))

    def rate_limit(self, method: str, retry_after: int = 1, times: int | None = 1) -> None:
        """Answer the next `times` calls with HTTP 429 and a Retry-After header."""
        self._knobs.add(Fault(method, times, 429, "ratelimited", retry_after))

    def error(self, method: str, error: str = "channel_not_found", times: int | None = 1) -> None:
        """Answer the next `times` calls with HTTP 200 {"ok": false, "error": error}."""
        self._knobs.add(Fault(method, times, 200, error))

    def clear_faults(self) -> None:
        """Remove all latency and fault settings."""
        self._knobs.clear()

    def realistic_rate_limits(self, on: bool = True) -> None:
        """Answer over-limit calls with 429 + Retry-After as Slack's tiers would (see ratelimits.py)."""
        self.rate_limiter.reset()
        self.rate_limiter.enabled = on

    @property
    def rate_limited(self) -> Counter[str]:
        """How many 429s were answered, per method (realistic limits and rate_limit() faults alike)."""
        return Counter(self.rate_limiter.served)

    def revoke_token(self) -> None:
        """Uninstall the app: every later call with the bot token fails with token_revoked."""
        self.state.token_revoked = True
