"""The domain and the store stay free of Slack and template libraries, so they test with fakes."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

FORBIDDEN = ("slack_bolt", "slack_sdk", "jinja2")


def test_commands_and_store_import_no_slack_or_jinja() -> None:
    modules = []
    for package in ("commands", "store"):
        pkg = importlib.import_module(package)
        modules += [f"{package}.{m.name}" for m in pkgutil.iter_modules(pkg.__path__)]
    assert "commands.incidents" in modules and "store.models" in modules
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + f"bad = [m for m in {FORBIDDEN!r} if m in sys.modules]\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"forbidden imports: {out.stdout}"


def test_importing_the_bot_has_no_side_effects() -> None:
    code = (
        "import threading, logging\n"
        "import bot.app, bot.ops.cli, bot.ops.server, bot.ops.demo, bot.listeners, bot.ops.scheduler\n"
        "assert threading.active_count() == 1, threading.enumerate()\n"
        "assert not logging.getLogger().handlers\n"
        "print('clean')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "clean", out.stderr
