"""The domain and the store stay free of Slack and template libraries, so they test with fakes."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

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


def test_commands_import_nothing_from_store_or_bot() -> None:
    """The commands run on their ports (commands.ports) over plain records: no store, no Slack glue."""
    root = Path(importlib.import_module("commands").__path__[0])
    imported: list[tuple[str, str]] = []
    for path in sorted(root.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported += [(path.name, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.append((path.name, node.module))
    assert any(module == "commands.ports" for _, module in imported)
    bad = [(name, module) for name, module in imported if module.split(".")[0] in ("store", "bot")]
    assert bad == [], f"commands/ reaches into the store or the bot: {bad}"
    modules = [f"commands.{m.name}" for m in pkgutil.iter_modules([str(root)])]
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('store', 'bot'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"importing commands/ loads: {out.stdout}"
