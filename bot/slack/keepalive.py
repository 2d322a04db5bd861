"""A slack_sdk WebClient that keeps its HTTP connections open: one TLS handshake per thread, not per call."""

from __future__ import annotations

import http.client
import io
import ssl
import threading
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request

from slack_sdk import WebClient
from slack_sdk.errors import SlackRequestError

# Failures that mean an idle kept-alive connection was closed by the server before our request reached it.
_STALE = (
    http.client.RemoteDisconnected,
    http.client.CannotSendRequest,
    BrokenPipeError,
    ConnectionResetError,
)


class KeepAliveWebClient(WebClient):
    """Same API, errors and retry handlers as WebClient; only the transport reuses connections."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._local = threading.local()

    def _connections(self) -> dict[tuple[str, str], http.client.HTTPConnection]:
        conns: dict[tuple[str, str], http.client.HTTPConnection] | None = getattr(self._local, "conns", None)
        if conns is None:
            conns = self._local.conns = {}
        return conns

    def _connect(self, scheme: str, netloc: str) -> tuple[http.client.HTTPConnection, bool]:
        conns = self._connections()
        existing = conns.get((scheme, netloc))
        if existing is not None:
            return existing, True
        conn: http.client.HTTPConnection
        if scheme == "https":
            conn = http.client.HTTPSConnection(
                netloc, timeout=self.timeout, context=self.ssl or ssl.create_default_context()
            )
        else:
            conn = http.client.HTTPConnection(netloc, timeout=self.timeout)
        conns[(scheme, netloc)] = conn
        return conn, False

    def _drop(self, scheme: str, netloc: str) -> None:
        conn = self._connections().pop((scheme, netloc), None)
        if conn is not None:
            conn.close()

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        if self.proxy is not None:
            return super()._perform_urllib_http_request_internal(url, req)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise SlackRequestError(f"Invalid URL detected: {url}")
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = dict(req.header_items())
        data = req.data if isinstance(req.data, bytes) else None
        while True:
            conn, reused = self._connect(parts.scheme, parts.netloc)
            try:
                conn.request(req.get_method(), path, body=data, headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                break
            except _STALE as exc:
                self._drop(parts.scheme, parts.netloc)
                if not reused:
                    raise URLError(exc) from exc
            except (OSError, http.client.HTTPException) as exc:
                self._drop(parts.scheme, parts.netloc)
                raise URLError(exc) from exc
        if resp.will_close:
            self._drop(parts.scheme, parts.netloc)
        if not 200 <= resp.status < 300:
            # The same exception urllib raises, so WebClient's 429/5xx handling and retry handlers apply.
            raise HTTPError(url, resp.status, resp.reason, resp.headers, io.BytesIO(body))
        charset = resp.headers.get_content_charset() or "utf-8"
        if resp.headers.get_content_type() == "application/gzip":
            return {"status": resp.status, "headers": resp.headers, "body": body}
        return {"status": resp.status, "headers": resp.headers, "body": body.decode(charset)}
