"""The HTTP surface: health reflects the database; unknown paths are 404."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.app import create_app
from bot.ops.config import IncidentConfig
from bot.ops.local import LocalServer
from bot.ops.settings import Settings
from tests.scenario.conftest import Harness


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_healthz_is_200_while_the_database_answers(harness: Harness) -> None:
    status, body = _get(harness.server.base_url + "/healthz")
    assert status == 200 and json.loads(body)["ok"] is True
    assert _get(harness.server.base_url + "/nope")[0] == 404


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    settings = Settings(
        slack_bot_token="xoxb-x",
        slack_signing_secret="s",
        slack_api_url="http://127.0.0.1:9/api/",
        database_url=f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}",
    )
    bot = create_app(settings, IncidentConfig())
    try:
        with LocalServer(bot.wsgi) as server:
            status, body = _get(server.base_url + "/healthz")
        assert status == 503 and "database" in body
    finally:
        bot.close()


def test_warm_up_compiles_every_template_before_the_first_request(harness: Harness) -> None:
    env = harness.bot.runtime.presenter.renderer.shipped
    assert env.cache is not None
    env.cache.clear()
    harness.bot.warm_up()
    names = env.list_templates(filter_func=lambda n: n.endswith(".mrkdwn.j2"))
    assert "summary.mrkdwn.j2" in names and "reminder.mrkdwn.j2" in names
    assert len(env.cache) == len(names)


def test_startup_logs_no_misleading_token_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-env")
    settings = Settings(
        slack_signing_secret="s",
        slack_api_url="http://127.0.0.1:9/api/",
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
    )
    with caplog.at_level(logging.WARNING):
        bot = create_app(settings, IncidentConfig())
        bot.close()
    assert "will be unused" not in caplog.text
