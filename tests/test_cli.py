"""The incidentbot command line, run in-process."""

from __future__ import annotations

import sys
import tomllib
import types
from argparse import Namespace
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.emulator import SlackEmulator
from bot.ops.cli import main
from bot.ops.settings import Settings
from bot.slack.manifest import BOT_SCOPES, build_manifest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "docs" / "incidentbot.example.toml"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """Run each CLI test from an empty environment in a scratch directory."""
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "SLACK_API_URL",
        "DATABASE_URL",
        "INCIDENTBOT_CONFIG",
        "PORT",
        "INCIDENTBOT_MIGRATE_ON_START",
        "LOG_LEVEL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def recorder(calls: list[Any], result: Any = 0) -> Any:
    """A stand-in callable that records its arguments and returns a fixed result."""

    def record(*args: Any) -> Any:
        calls.append(args)
        return result

    return record


def fake_module(monkeypatch: pytest.MonkeyPatch, name: str, **attrs: Any) -> None:
    """Stand in for a module another author writes, so the CLI's dispatch is tested on its own."""
    module = types.ModuleType(name)
    for key, value in attrs.items():
        setattr(module, key, value)
    monkeypatch.setitem(sys.modules, name, module)


def test_config_check_good_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert str(EXAMPLE) in out
    data = tomllib.loads(out)  # the effective config is itself valid TOML
    assert list(data["severities"]) == ["sev1", "sev2", "sev3", "sev4"]
    assert data["severities"]["sev1"]["update_every"] == "15m"


def test_config_check_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check"]) == 0
    out = capsys.readouterr().out
    assert "defaults" in out and 'channel_prefix = "inc"' in out


def test_config_check_uses_env(
    capsys: pytest.CaptureFixture[str], clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "env.toml"
    path.write_text('channel_prefix = "fire"\n')
    clean_env.setenv("INCIDENTBOT_CONFIG", str(path))
    assert main(["config", "check"]) == 0
    assert 'channel_prefix = "fire"' in capsys.readouterr().out


def test_config_check_bad_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[severities.sev2]\ndescription = "x"\nupdate_every = "often"\n')
    assert main(["config", "check", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert str(path) in captured.err
    assert "severities.sev2.update_every" in captured.err


def test_config_check_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["config", "check", str(tmp_path / "absent.toml")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_manifest(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["manifest", "--url", "https://bot.example.org/slack/events"]) == 0
    data = yaml.safe_load(capsys.readouterr().out)
    (command,) = data["features"]["slash_commands"]
    assert command["command"] == "/incident"
    assert command["url"] == "https://bot.example.org/slack/events"
    assert data["settings"]["socket_mode_enabled"] is False


def test_manifest_socket_mode(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["manifest", "--socket-mode"]) == 0
    data = yaml.safe_load(capsys.readouterr().out)
    assert data["settings"]["socket_mode_enabled"] is True
    assert "url" not in data["features"]["slash_commands"][0]


def test_usage_errors_return_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["frobnicate"]) == 2
    assert main(["db"]) == 2
    assert main(["help-me"]) == 2
    capsys.readouterr()
    assert main(["--help"]) == 0
    assert "serve" in capsys.readouterr().out


def test_invalid_environment_is_reported(
    capsys: pytest.CaptureFixture[str], clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("PORT", "not-a-port")
    assert main(["config", "check"]) == 2
    assert "PORT" in capsys.readouterr().err


def test_serve_dispatch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[tuple[Settings, Any]] = []
    fake_module(monkeypatch, "bot.ops.server", serve=recorder(seen))
    path = tmp_path / "c.toml"
    path.write_text('channel_prefix = "sev"\n')
    monkeypatch.setenv("INCIDENTBOT_CONFIG", str(path))
    assert main(["serve"]) == 0
    ((settings, config),) = seen
    assert settings.incidentbot_config == path
    assert config.channel_prefix == "sev"


def test_serve_with_bad_config_exits_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_module(monkeypatch, "bot.ops.server", serve=lambda _s, _c: pytest.fail("must not start"))
    path = tmp_path / "c.toml"
    path.write_text("nonsense = 1\n")
    monkeypatch.setenv("INCIDENTBOT_CONFIG", str(path))
    assert main(["serve"]) == 2
    assert "nonsense" in capsys.readouterr().err


def test_demo_dispatch(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[Namespace]] = []
    fake_module(monkeypatch, "bot.ops.demo", run_demo=recorder(seen, 3))
    assert main(["demo", "--slow"]) == 3
    assert seen[0][0].slow is True


def test_demo_makes_its_postmortem_dir_first_or_refuses_before_running(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[tuple[Namespace]] = []
    fake_module(monkeypatch, "bot.ops.demo", run_demo=recorder(seen, 0))
    wanted = tmp_path / "drafts" / "today"
    assert main(["demo", "--postmortem-dir", str(wanted)]) == 0
    assert wanted.is_dir() and seen[0][0].postmortem_dir == wanted
    taken = tmp_path / "a-file"
    taken.write_text("")
    assert main(["demo", "--postmortem-dir", str(taken)]) == 2
    assert f"demo --postmortem-dir {taken}: File exists" in capsys.readouterr().err
    assert len(seen) == 1, "the demo must not run when its draft cannot be written"


def test_db_upgrade(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[tuple[str, str]] = []
    fake_module(monkeypatch, "bot.ops.migrate", upgrade=recorder(calls, None))
    monkeypatch.setenv("DATABASE_URL", "postgres://user:hunter2@db/inc")
    assert main(["db", "upgrade"]) == 0
    assert calls == [("postgresql+psycopg://user:hunter2@db/inc", "head")]
    out = capsys.readouterr().out
    assert "head" in out and "hunter2" not in out
    assert main(["db", "upgrade", "--revision", "abc123"]) == 0
    assert calls[-1][1] == "abc123"


def test_export_dispatch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[tuple[Namespace, Settings, Any]] = []
    fake_module(monkeypatch, "bot.ops.export", run_export=recorder(seen))
    assert main(["export", "inc-42", "--format", "json", "-o", str(tmp_path / "x.json")]) == 0
    args = seen[-1][0]
    assert args.incident == "INC-42" and args.incident_number == 42 and not args.all
    assert args.format == "json" and args.output == tmp_path / "x.json"
    assert main(["export", "--all", "--since", "2024-01-31", "-o", str(tmp_path)]) == 0
    args = seen[-1][0]
    assert (
        args.all and args.incident is None and str(args.since) == "2024-01-31" and args.format == "markdown"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["export"],
        ["export", "42"],
        ["export", "INC-1", "--all", "-o", "d"],
        ["export", "--all"],
        ["export", "INC-1", "--since", "2024-01-01"],
        ["export", "--all", "--since", "yesterday", "-o", "d"],
        ["export", "INC-1", "--format", "pdf"],
    ],
)
def test_export_usage_errors(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> None:
    fake_module(monkeypatch, "bot.ops.export", run_export=lambda _a, _s, _c: pytest.fail("must not run"))
    assert main(argv) == 2


def test_no_database_file_created(tmp_path: Path) -> None:
    main(["config", "check"])
    main(["manifest"])
    assert list(tmp_path.iterdir()) == []


def test_config_check_says_it_skipped_slack_without_a_token(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check"]) == 0
    assert "# Slack: not checked (SLACK_BOT_TOKEN is not set)" in capsys.readouterr().out


def test_config_check_asks_slack_about_the_token_and_its_scopes(
    capsys: pytest.CaptureFixture[str], clean_env: pytest.MonkeyPatch
) -> None:
    manifest = build_manifest()
    manifest["oauth_config"]["scopes"]["bot"] = [s for s in BOT_SCOPES if s != "usergroups:read"]
    with SlackEmulator(manifest=manifest) as emu:
        clean_env.setenv("SLACK_BOT_TOKEN", emu.bot_token)
        clean_env.setenv("SLACK_API_URL", emu.api_url)
        assert main(["config", "check"]) == 0
        assert [c.method for c in emu.calls] == ["auth.test"]
    out = capsys.readouterr().out
    assert "# Slack: SLACK_BOT_TOKEN works: @incidentbot in Emulator" in out
    assert "# Slack: the app lacks the usergroups:read scope" in out and "`incidentbot manifest`" in out
    assert emu.bot_token not in out
    tomllib.loads(out)  # still a loadable config file


def test_config_check_fails_on_a_token_slack_refuses(
    capsys: pytest.CaptureFixture[str], clean_env: pytest.MonkeyPatch
) -> None:
    with SlackEmulator() as emu:
        clean_env.setenv("SLACK_BOT_TOKEN", "xoxb-1234-not-the-installed-one")
        clean_env.setenv("SLACK_API_URL", emu.api_url)
        assert main(["config", "check"]) == 2
    captured = capsys.readouterr()
    assert "invalid_auth" in captured.err and "SLACK_BOT_TOKEN" in captured.err
    assert "xoxb-1234-not-the-installed-one" not in captured.err + captured.out


def test_serve_refuses_to_start_without_a_bot_token(
    capsys: pytest.CaptureFixture[str], clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("SLACK_APP_TOKEN", "xapp-any")
    clean_env.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")  # nothing listens: never reach Slack
    assert main(["serve"]) == 2
    assert "SLACK_BOT_TOKEN is not set" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
