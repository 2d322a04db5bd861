"""Start-up checks in-process: request verification is never off, and auth.test decides refuse or warn."""

from __future__ import annotations

import hashlib
import hmac
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from pydantic import SecretStr

from bot.app import create_app
from bot.emulator import SlackEmulator
from bot.ops.cli import main
from bot.ops.config import IncidentConfig
from bot.ops.local import LocalServer
from bot.ops.migrate import upgrade
from bot.ops.settings import Settings
from bot.ops.startup import PERMANENT_TOKEN_ERRORS, StartupError, check_bot_token
from bot.slack.manifest import BOT_SCOPES, build_manifest

WRONG_TOKEN = "xoxb-1234-not-the-installed-one"


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emu:
        emu.add_channel("incidents")
        yield emu


def settings_for(emu: SlackEmulator, database_url: str = "sqlite://", **changes: object) -> Settings:
    values: dict[str, object] = {
        "slack_bot_token": SecretStr(emu.bot_token),
        "slack_api_url": emu.api_url,
        "database_url": database_url,
        **changes,
    }
    return Settings.model_validate(values)


def post_command(url: str, text: str, headers: dict[str, str]) -> int:
    """POST a slash command with the given (maybe missing or forged) signature headers; return the status."""
    body = urlencode(
        {
            "command": "/incident",
            "text": text,
            "user_id": "U1",
            "channel_id": "C1",
            "team_id": "T0EMU",
            "response_url": "http://127.0.0.1:9/response/x",
            "trigger_id": "1.2.3",
        }
    ).encode()
    if headers.get("X-Slack-Signature") == "sign-with-empty-secret":
        stamp = str(int(time.time()))
        digest = hmac.new(b"", f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
        headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return err.code


def test_create_app_refuses_an_http_app_without_signing_secret(emulator: SlackEmulator) -> None:
    with pytest.raises(StartupError, match="SLACK_SIGNING_SECRET is not set"):
        create_app(settings_for(emulator), IncidentConfig())


@pytest.mark.parametrize("headers", [{}, {"X-Slack-Signature": "sign-with-empty-secret"}])
def test_a_socket_mode_app_never_serves_an_unverified_http_request(
    emulator: SlackEmulator, tmp_path: Path, headers: dict[str, str]
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    settings = settings_for(emulator, url, slack_app_token=SecretStr(emulator.app_token))
    bot = create_app(settings, IncidentConfig())
    try:
        with LocalServer(bot.wsgi) as server:
            status = post_command(server.events_url, "declare sev1 forged", headers)
        assert status == 401
        bot.runtime.drain()
    finally:
        bot.close()

    assert emulator.calls == [] and emulator.channel_by_name("inc-1-forged") is None
    with bot.runtime.uow() as tx:
        assert tx.incidents.get(1) is None


@pytest.mark.parametrize("error", sorted(PERMANENT_TOKEN_ERRORS))
def test_a_token_slack_refuses_for_good_stops_the_start(emulator: SlackEmulator, error: str) -> None:
    emulator.error("auth.test", error)

    with pytest.raises(StartupError) as info:
        check_bot_token(settings_for(emulator))

    message = str(info.value)
    assert error in message and "SLACK_BOT_TOKEN" in message
    assert emulator.bot_token not in message


def test_a_wrong_token_is_named_without_showing_it(emulator: SlackEmulator) -> None:
    with pytest.raises(StartupError, match="invalid_auth") as info:
        check_bot_token(settings_for(emulator, slack_bot_token=SecretStr(WRONG_TOKEN)))
    assert WRONG_TOKEN not in str(info.value)


@pytest.mark.parametrize("fault", ["fail", "rate_limit", "other_error"])
def test_a_slack_that_fails_at_start_is_a_warning(emulator: SlackEmulator, fault: str) -> None:
    if fault == "fail":
        emulator.fail("auth.test", status=503, times=None)
    elif fault == "rate_limit":
        emulator.rate_limit("auth.test", times=None)
    else:
        emulator.error("auth.test", "internal_error")

    check = check_bot_token(settings_for(emulator))

    assert check.unverified is not None
    (warning,) = check.warnings()
    assert "could not check SLACK_BOT_TOKEN" in warning and "starting anyway" in warning


def test_granted_scopes_come_from_the_response_header() -> None:
    manifest = build_manifest()
    manifest["oauth_config"]["scopes"]["bot"] = [s for s in BOT_SCOPES if s != "files:write"]
    with SlackEmulator(manifest=manifest) as emu:
        check = check_bot_token(settings_for(emu))

    assert check.bot_user == "incidentbot" and check.unverified is None
    assert check.missing_scopes == ["files:write"]
    (warning,) = check.warnings()
    assert warning.startswith("the app lacks the files:write scope")
    assert "files.getUploadURLExternal" in warning and "`incidentbot manifest`" in warning


def serve_environment(
    monkeypatch: pytest.MonkeyPatch, emu: SlackEmulator, tmp_path: Path, **values: str
) -> None:
    """Set up `incidentbot serve` in-process: the emulator's bot token, a scratch database, `values`."""
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "INCIDENTBOT_CONFIG", "PORT"):
        monkeypatch.delenv(name, raising=False)
    base = {
        "SLACK_BOT_TOKEN": emu.bot_token,
        "SLACK_API_URL": emu.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
    }
    for name, value in {**base, **values}.items():
        monkeypatch.setenv(name, value)


def test_serve_refuses_an_app_token_slack_refuses(
    emulator: SlackEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    serve_environment(monkeypatch, emulator, tmp_path, SLACK_APP_TOKEN="xapp-1-not-the-apps-token")

    assert main(["serve"]) == 2

    err = capsys.readouterr().err
    assert "Slack refused SLACK_APP_TOKEN with invalid_auth" in err and "connections:write" in err
    assert "xapp-1-not-the-apps-token" not in err


def test_serve_says_which_port_is_taken(
    emulator: SlackEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        serve_environment(
            monkeypatch, emulator, tmp_path, SLACK_SIGNING_SECRET=emulator.signing_secret, PORT=str(port)
        )

        assert main(["serve"]) == 2

    assert f"cannot listen on PORT {port}" in capsys.readouterr().err
