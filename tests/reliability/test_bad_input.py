"""Arbitrary text, unicode, huge and missing fields: never a 5xx, never a crash, always a clear reply."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack.ids import ActionId, BlockId, ViewId
from bot.slack.manifest import CallbackId
from commands.errors import UsageError
from commands.parsing import parse
from tests.reliability import payloads
from tests.reliability.conftest import Rig, open_rig

HTTP = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
VERBS = ["declare", "update", "escalate", "assign", "resolve", "note", "action", "status", "list", "help", ""]
SEVERITIES = ["sev1", "sev2", "sev3", "sev4"]
MARKUP = [
    "<!channel>",
    "<!here>",
    "<@U2|bob>",
    "<!subteam^S1|@db>",
    "&lt;",
    "&amp;",
    "<#C1|x>",
    "{{ 7*7 }}",
    "--private",
]

any_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
words = st.lists(st.one_of(st.sampled_from(VERBS + SEVERITIES + MARKUP), any_text), max_size=8).map(" ".join)
command_text = st.one_of(
    any_text,
    words,
    st.tuples(st.sampled_from(VERBS), words).map(" ".join),
    st.tuples(
        st.sampled_from(["declare", "update", "note", "resolve"]), st.text(min_size=190, max_size=3100)
    ).map(" ".join),
)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | any_text,
    lambda inner: st.lists(inner, max_size=3),
    max_leaves=5,
)


class Crashes(logging.Handler):
    """Collect ERROR records from the bot's own loggers: an unhandled listener error is a crash."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in ("bot", "commands", "store", "incidentbot"):
            self.records.append(record)


@pytest.fixture
def fuzz_rig(sqlite_url: str) -> Iterator[tuple[Rig, Crashes, str]]:
    crashes = Crashes()
    logging.getLogger().addHandler(crashes)
    try:
        for r in open_rig(sqlite_url):
            r.command("declare sev2 The fuzzing room")
            yield r, crashes, str(r.room(1).id)
    finally:
        logging.getLogger().removeHandler(crashes)


def _no_crash(crashes: Crashes) -> None:
    assert [r.getMessage() for r in crashes.records] == []


@settings(max_examples=500, deadline=None)
@given(command_text)
def test_parser_returns_a_command_or_a_usage_error(text: str) -> None:
    try:
        parse(text, severities=SEVERITIES)
    except UsageError as exc:
        assert exc.message.strip()


@HTTP
@given(text=command_text, in_room=st.booleans())
def test_any_slash_command_gets_a_clear_answer(
    fuzz_rig: tuple[Rig, Crashes, str], text: str, in_room: bool
) -> None:
    r, crashes, room = fuzz_rig
    before = len(r.emu.responses)
    opened = len(r.emu.calls_to("views.open"))
    result = r.command(text, channel=room if in_room else r.general)
    assert result.status == 200
    ack = result.json() or {}
    replies = r.replies()[before:]
    assert ack.get("text") or replies or len(r.emu.calls_to("views.open")) > opened, f"silence for {text!r}"
    assert all("Something went wrong" not in t for t in replies), replies
    _no_crash(crashes)


def _submission(r: Rig, callback: str, private_metadata: Any, values: Any, user: Any) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": {"id": r.emu.team_id},
        "user": {"id": user} if user is not None else {},
        "trigger_id": r.emu.new_trigger_id("U1"),
        "view": {
            "id": "VFUZZ",
            "type": "modal",
            "callback_id": callback,
            "private_metadata": private_metadata,
            "state": {"values": values},
        },
    }


field_values = st.fixed_dictionaries(
    {},
    optional={
        BlockId.TITLE.value: st.fixed_dictionaries(
            {ActionId.TITLE.value: st.fixed_dictionaries({"value": json_value})}
        ),
        BlockId.SEVERITY.value: st.fixed_dictionaries(
            {
                ActionId.SEVERITY.value: st.fixed_dictionaries(
                    {
                        "selected_option": st.none()
                        | st.fixed_dictionaries({"value": st.sampled_from(SEVERITIES) | any_text})
                    }
                )
            }
        ),
        BlockId.MESSAGE.value: st.fixed_dictionaries(
            {ActionId.MESSAGE.value: st.fixed_dictionaries({"value": json_value})}
        ),
        BlockId.STATUS.value: st.fixed_dictionaries(
            {
                ActionId.STATUS.value: st.fixed_dictionaries(
                    {
                        "selected_option": st.none()
                        | st.fixed_dictionaries(
                            {"value": st.sampled_from(["identified", "resolved"]) | any_text}
                        )
                    }
                )
            }
        ),
        BlockId.ROLE.value: st.fixed_dictionaries(
            {
                ActionId.ROLE.value: st.fixed_dictionaries(
                    {
                        "selected_option": st.none()
                        | st.fixed_dictionaries({"value": st.sampled_from(["comms", "captain"]) | any_text})
                    }
                )
            }
        ),
        BlockId.ASSIGNEE.value: st.fixed_dictionaries(
            {
                ActionId.ASSIGNEE.value: st.fixed_dictionaries(
                    {"selected_user": st.sampled_from(["U2", "U999", ""]) | any_text}
                )
            }
        ),
        BlockId.DESCRIPTION.value: st.fixed_dictionaries(
            {ActionId.DESCRIPTION.value: st.fixed_dictionaries({"value": json_value})}
        ),
    },
)


@HTTP
@given(
    callback=st.sampled_from([ViewId.DECLARE.value, ViewId.UPDATE.value, ViewId.ASSIGN.value]),
    metadata=st.sampled_from(["", "{}", "not json", '{"channel_id": null}']) | any_text | st.just("ROOM"),
    values=field_values,
    user=st.sampled_from(["U1", "U2", None]),
)
def test_any_modal_submission_is_answered(
    fuzz_rig: tuple[Rig, Crashes, str], callback: str, metadata: str, values: dict[str, Any], user: str | None
) -> None:
    r, crashes, room = fuzz_rig
    if metadata == "ROOM":
        metadata = f'{{"channel_id": "{room}"}}'
    result = r.emu.send_interaction(r.url, _submission(r, callback, metadata, values, user))
    assert result.status == 200, result.body
    r.settle()
    answer = result.json()
    assert answer is None or answer.get("response_action") == "errors"
    _no_crash(crashes)


@HTTP
@given(
    action=st.sampled_from(
        [ActionId.OPEN_ASSIGN.value, ActionId.OPEN_UPDATE.value, ActionId.JOIN_ROOM.value]
    ),
    value=json_value,
    drop=st.sets(st.sampled_from(["channel", "user", "trigger_id", "actions"])),
)
def test_any_button_click_is_answered(
    fuzz_rig: tuple[Rig, Crashes, str], action: str, value: Any, drop: set[str]
) -> None:
    r, crashes, room = fuzz_rig
    payload = payloads.block_action(
        r.emu, user="U2", channel=room, message_ts="1.0", action_id=action, value=""
    )
    payload["actions"][0]["value"] = value
    for key in drop - {"actions"}:
        payload.pop(key)
    if "actions" in drop:
        payload["actions"] = [{"action_id": action, "type": "button"}]
    assert r.emu.send_interaction(r.url, payload).status == 200
    r.settle()
    _no_crash(crashes)


@HTTP
@given(
    text=json_value,
    drop=st.sets(st.sampled_from(["channel", "user", "message", "trigger_id"])),
    reaction=st.sampled_from(["pushpin", "memo", "eyes"]) | any_text,
    item=st.fixed_dictionaries(
        {}, optional={"type": st.sampled_from(["message", "file"]), "channel": any_text, "ts": any_text}
    ),
)
def test_any_shortcut_or_reaction_is_handled(
    fuzz_rig: tuple[Rig, Crashes, str], text: Any, drop: set[str], reaction: str, item: dict[str, Any]
) -> None:
    r, crashes, room = fuzz_rig
    shortcut = payloads.message_shortcut(
        r.emu, CallbackId.ADD_TO_TIMELINE, user="U2", channel=room, ts="1.000001", text="x"
    )
    shortcut["message"]["text"] = text
    for key in drop:
        shortcut.pop(key, None)
    assert r.emu.send_interaction(r.url, shortcut).status == 200
    glob = payloads.global_shortcut(r.emu, CallbackId.DECLARE_INCIDENT, user="U2")
    for key in drop & {"user", "trigger_id"}:
        glob.pop(key)
    assert r.emu.send_interaction(r.url, glob).status == 200
    event = {"type": "reaction_added", "user": "U2", "reaction": reaction, "item": item}
    assert r.emu.send_event(r.url, event).status == 200
    r.settle()
    _no_crash(crashes)
