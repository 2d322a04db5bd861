"""Replies through a slash command's response_url over kept-alive connections, one small pool per host.

Every declare of a burst ends with one such reply. slack_sdk's WebhookClient opens a new connection (and,
against hooks.slack.com, a new TLS session) for each, through urllib's opener machinery: in the web
process that was about a third of a declare's CPU. Here a connection is reused while the far end keeps it
open; one it had closed while idle is replaced and the post sent once more, as urllib3 does, since the
request never reached it.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
import time
from collections.abc import Mapping
from http.client import HTTPConnection, HTTPSConnection, RemoteDisconnected
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

IDLE_PER_HOST = 16  # connections kept per host: a burst's replies share these
IDLE_SECONDS = 30.0  # one idle longer is closed rather than reused (servers drop idle ones themselves)
TIMEOUT_SECONDS = 10.0
# Failures of a kept connection that tell the far end closed it before reading the request.
_STALE = (RemoteDisconnected, ConnectionResetError, BrokenPipeError)

_Key = tuple[str, str, int]


class ResponseUrls:
    """POST JSON to response_urls, reusing connections per (scheme, host, port)."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None, timeout: float = TIMEOUT_SECONDS) -> None:
        self._ssl = ssl_context
        self._timeout = timeout
        self._lock = threading.Lock()
        self._idle: dict[_Key, list[tuple[float, HTTPConnection]]] = {}

    def post(self, url: str, payload: Mapping[str, Any]) -> int:
        """Send `payload`; Slack's HTTP status. Raises OSError (or ValueError for a URL that is not one)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("a response_url must be an http(s) URL")
        key = (parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "incidentbot"}
        conn, reused = self._take(key)
        try:
            try:
                status, keep = self._send(conn, target, body, headers)
            except _STALE:
                conn.close()
                if not reused:
                    raise
                conn, reused = self._connect(key), False
                status, keep = self._send(conn, target, body, headers)
        except BaseException:
            conn.close()
            raise
        if keep:
            self._give(key, conn)
        else:
            conn.close()
        if status != 200:
            log.warning("response_url answered HTTP %s", status)  # never the URL or the text
        return status

    @staticmethod
    def _send(conn: HTTPConnection, target: str, body: bytes, headers: dict[str, str]) -> tuple[int, bool]:
        conn.request("POST", target, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status, not response.will_close

    def _take(self, key: _Key) -> tuple[HTTPConnection, bool]:
        """An idle connection to this host (True), else a new one (False)."""
        now = time.monotonic()
        with self._lock:
            idle = self._idle.get(key, [])
            while idle:
                since, conn = idle.pop()
                if now - since < IDLE_SECONDS:
                    return conn, True
                conn.close()
        return self._connect(key), False

    def _give(self, key: _Key, conn: HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < IDLE_PER_HOST:
                idle.append((time.monotonic(), conn))
                return
        conn.close()

    def _connect(self, key: _Key) -> HTTPConnection:
        scheme, host, port = key
        if scheme == "https":
            return HTTPSConnection(host, port, timeout=self._timeout, context=self._ssl)
        return HTTPConnection(host, port, timeout=self._timeout)


class PooledRespond:
    """What a listener's `respond` is asked to do here (text, response_type, replace_original), pooled."""

    def __init__(self, urls: ResponseUrls, response_url: str | None) -> None:
        self._urls = urls
        self._url = response_url

    def __call__(self, text: str, response_type: str = "ephemeral", replace_original: bool = False) -> int:
        if not self._url:
            raise ValueError("this request has no response_url")
        payload = {"text": text, "response_type": response_type, "replace_original": replace_original}
        return self._urls.post(self._url, payload)
