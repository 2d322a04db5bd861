"""Every command a listener can hand over has exactly one feature, so the pipeline has no ladder to forget."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

from commands import parsing
from commands.capture import Marked
from commands.registry import FEATURES, feature_for

LISTENERS = Path(__file__).resolve().parents[2] / "bot" / "listeners"


def test_every_parsed_command_has_a_feature() -> None:
    parsed = set(typing.get_args(parsing.Command))
    assert parsed, "parsing.Command lists the slash command's results"
    missing = [c.__name__ for c in parsed if c not in FEATURES]
    assert missing == []


def test_every_command_a_listener_builds_has_a_feature() -> None:
    built = {parsing.OpenAssignForm, parsing.JoinRoom, parsing.Snooze, parsing.AddToTimeline, Marked}
    assert built <= set(FEATURES)
    assert feature_for(parsing.Snooze("15m")).name == "snooze"


def test_features_name_themselves_and_say_where_they_answer() -> None:
    for feature in FEATURES.values():
        assert feature.name and isinstance(feature.answers_in_ack, bool) and callable(feature.record)
    answering_in_ack = sorted(f.name for f in FEATURES.values() if f.answers_in_ack)
    assert answering_in_ack == ["declare", "help"]


def test_no_listener_dispatches_on_command_types() -> None:
    """The registry replaced the isinstance ladders: listeners parse and hand over, nothing else."""
    commands = {name for name in dir(parsing) if isinstance(getattr(parsing, name), type)} | {"Marked"}
    for path in LISTENERS.glob("*.py"):
        tree = ast.parse(path.read_text())
        checks = [
            ast.unparse(n)
            for n in ast.walk(tree)
            if isinstance(n, ast.Call)
            and getattr(n.func, "id", "") == "isinstance"
            and {getattr(a, "id", "") for a in ast.walk(n.args[1])} & commands
        ]
        assert checks == [], f"{path.name} dispatches on command types: {checks}"
