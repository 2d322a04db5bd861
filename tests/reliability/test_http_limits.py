"""Before it is authenticated a request costs little: bounded bodies, slow clients, bad input, clean logs."""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bot.emulator import SlackEmulator, sign_request
from bot.slack.request_gate import RefusalLog
from tests.scenario.test_serve_process import free_port, healthy, wait_until

MIB = 1024 * 1024
FORM = "application/x-www-form-urlencoded"
# A line that would pass for one of the bot's own if a newline in a request reached the log.
FORGED = "2099-01-01 00:00:00,000 ERROR bot.forged: "


@dataclass
class Served:
    """`incidentbot serve` as a real process at LOG_LEVEL=INFO, its stderr kept in a file."""

    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    emu: SlackEmulator

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return self.base_url + "/slack/events"

    def logged(self) -> str:
        return self.log.read_text("utf-8", "replace")

    def status_field(self, name: str) -> int:
        """A size from /proc/<pid>/status, in bytes (VmRSS now, VmHWM the peak)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1]) * 1024
        raise AssertionError(f"{name} not in /proc status")

    def reset_peak(self) -> None:
        """Make VmHWM start again from the current RSS (Linux clear_refs, value 5)."""
        Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("serve")
    with SlackEmulator() as emu:
        emu.add_channel("incidents")
        port = free_port()
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": emu.bot_token,
            "SLACK_SIGNING_SECRET": emu.signing_secret,
            "SLACK_API_URL": emu.api_url,
            "DATABASE_URL": f"sqlite:///{tmp / 'bot.db'}",
            "PORT": str(port),
            "LOG_LEVEL": "INFO",
        }
        env.pop("SLACK_APP_TOKEN", None)
        log = tmp / "serve.log"
        with log.open("wb") as sink:
            proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, stderr=sink)
        try:
            wait_until(lambda: healthy(f"http://127.0.0.1:{port}/healthz"))
            yield Served(proc=proc, port=port, log=log, emu=emu)
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = 5) -> tuple[int, str]:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback
            return int(resp.status), resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace")


def stream_post(
    port: int,
    body: bytes,
    content_type: str,
    deadline: float = 10.0,
    headers: dict[str, str] | None = None,
) -> tuple[int, float]:
    """POST like a client that streams its body and stops once the server has answered: status, seconds.

    (A client that insists on sending the whole body may get a broken pipe instead of the answer, since
    the server closes the connection once it has refused.)
    """
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        f"{extra}Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=deadline) as sock:
        sock.sendall(head)
        sent = 0
        while sent < len(body):
            if select.select([sock], [], [], 0)[0]:
                break  # the server has answered before reading the rest
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(body[sent : sent + 64 * 1024])
            sent += 64 * 1024
        reply = b""
        while b"\r\n" not in reply and time.monotonic() - started < deadline:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    elapsed = time.monotonic() - started
    return int(reply.split(b" ", 2)[1]), elapsed


def test_an_unsigned_8_mib_post_is_refused_with_413_before_it_is_read(served: Served) -> None:
    marker = f"BODY-{uuid.uuid4().hex}"
    body = f"command=%2Fincident&text={marker}".encode() + b"x" * (8 * MIB)
    served.reset_peak()
    before = served.status_field("VmRSS")
    status, seconds = stream_post(served.port, body, FORM)
    assert status == 413
    assert seconds < 1.0
    time.sleep(0.2)
    assert served.status_field("VmHWM") - before < 2 * MIB
    assert marker not in served.logged()
    assert healthy(served.base_url + "/healthz")


def test_a_signed_body_over_the_limit_is_refused_and_a_large_slack_payload_is_not(served: Served) -> None:
    emu = served.emu
    too_big = urlencode({"command": "/incident", "text": "x" * (2 * MIB)}).encode()
    assert (
        stream_post(served.port, too_big, FORM, headers=sign_request(emu.signing_secret, too_big))[0] == 413
    )
    # 600 KB percent-encoded: Slack's largest payloads (a message shortcut on a 40,000-character message,
    # its blocks included) are that size and must still get through.
    assert emu.send_command(served.url, "note " + "é" * 100_000).status == 200


def test_unsigned_requests_are_refused_and_their_bodies_never_logged(served: Served) -> None:
    marker = f"BODY-{uuid.uuid4().hex}"
    forged = FORGED + marker
    bodies = [
        (f'{{"type": "event_callback",\n"{forged}": 1}}'.encode(), "application/json"),
        (urlencode({"command": "/incident", "text": f"x\n{forged}"}).encode(), FORM),
    ]
    for body, content_type in bodies:
        status, _ = post(served.url, body, {"Content-Type": content_type})
        assert status == 401
    time.sleep(0.2)
    logged = served.logged()
    assert marker not in logged
    assert not [line for line in logged.splitlines() if line.startswith(FORGED)]


def test_slack_ssl_check_is_answered_without_a_signature(served: Served) -> None:
    # Slack sends ssl_check requests unsigned (bolt-js#1397); Bolt answers them before verifying.
    body = b"ssl_check=1&token=xxx"
    assert post(served.url, body, {"Content-Type": FORM}) == (200, "")


def test_malformed_bodies_are_answered_400_without_a_traceback(served: Served) -> None:
    emu = served.emu

    def signed(body: bytes, content_type: str) -> tuple[int, str]:
        headers = {"Content-Type": content_type, **sign_request(emu.signing_secret, body)}
        return post(served.url, body, headers)

    assert signed(b"payload=%7Bnot-json", FORM)[0] == 400
    assert signed(urlencode({"payload": "[1, 2]"}).encode(), FORM)[0] == 400
    assert signed(b'{"type": "event_callback", ', "application/json")[0] == 400
    assert signed(b"command=%2Fincident&text=\xff\xfe", FORM)[0] == 400
    body = b"command=%2Fincident&text=help"
    for stamp in ("soon", "12.5", "-1", "\u00b2"):
        headers = {"Content-Type": FORM, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=00"}
        assert post(served.url, body, headers)[0] == 400, stamp
    assert emu.send_command(served.url, "help").status == 200
    time.sleep(0.2)
    logged = served.logged()
    assert "Traceback" not in logged and "Exception while serving" not in logged


def test_slow_clients_do_not_starve_health_checks_or_slack(served: Served) -> None:
    half_open: list[socket.socket] = []
    try:
        for _ in range(150):
            sock = socket.create_connection(("127.0.0.1", served.port), timeout=5)
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/pl")
            half_open.append(sock)
        started = time.monotonic()
        with urllib.request.urlopen(served.base_url + "/healthz", timeout=3) as resp:  # noqa: S310
            assert resp.status == 200
        assert time.monotonic() - started < 2.0
        started = time.monotonic()
        answer = served.emu.send_command(served.url, "declare sev3 during a slow-client attack")
        assert answer.status == 200 and "Declared" in answer.body
        assert time.monotonic() - started < 2.0
        # A connection that stops sending is closed by the server, so idle sockets cannot pile up.
        idle = half_open[0]
        idle.settimeout(20)
        started = time.monotonic()
        with contextlib.suppress(ConnectionResetError):
            assert idle.recv(1) == b""
        assert time.monotonic() - started < 15
    finally:
        for sock in half_open:
            sock.close()


def test_no_log_message_can_start_a_line_of_its_own(tmp_path: Path) -> None:
    # Whatever a future log call carries, the CLI's logging (what `serve` uses) keeps it on one line.
    script = (
        "import logging, sys\n"
        "from bot.ops.cli import main\n"
        "main(['manifest'])\n"
        "logging.getLogger('bot.anywhere').warning('title: %s', sys.argv[1])\n"
    )
    text = f"x\r\n{FORGED}forged\u2028{FORGED}forged\x1b[2J"
    done = subprocess.run(
        [sys.executable, "-c", script, text],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"},
    )
    # splitlines() breaks at every character a log viewer might treat as a line end, \u2028 included.
    logged = [line for line in done.stderr.splitlines() if "bot.anywhere" in line]
    assert len(logged) == 1
    escaped = f"x\\r\\n{FORGED}forged\\u2028{FORGED}forged\\x1b[2J"
    assert logged[0].endswith(f"WARNING bot.anywhere: title: {escaped}")
    assert not [line for line in done.stderr.splitlines() if line.startswith(FORGED)]


def test_refusals_are_logged_once_a_minute_with_a_count(caplog: pytest.LogCaptureFixture) -> None:
    now = [1000.0]
    refusals = RefusalLog(clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="bot.slack.request_gate"):
        for _ in range(500):
            refusals.refused("missing, stale or wrong Slack signature")
        now[0] += 61
        refusals.refused("missing, stale or wrong Slack signature")
    assert [r.getMessage() for r in caplog.records] == [
        "refused 1 request(s): missing, stale or wrong Slack signature",
        "refused 500 request(s): missing, stale or wrong Slack signature",
    ]
