"""Severity targets over HTTP against the strict emulator: warnings and breaches in the room, once each,
cancelled by milestones, and the postmortem's verdict on each target; with a clock the test moves."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from bot.ops.config import IncidentConfig
from bot.ops.export import export_record
from bot.render.presenter import DRILL_MARK
from commands.postmortem import load_postmortem
from tests.scenario.conftest import FakeClock, Harness
from tests.scenario.test_postmortem import shared_files

WARNING = "incident_target_warning"
BREACHED = "incident_target_breached"
_LEVELS = IncidentConfig().severities
CONFIG = IncidentConfig().model_copy(
    update={
        "severities": {
            **_LEVELS,
            "sev1": _LEVELS["sev1"].model_copy(
                update={
                    "update_every": timedelta(hours=12),  # keep reminders out of the room's messages
                    "commander_timeout": timedelta(hours=12),
                    "acknowledge_within": timedelta(minutes=5),
                    "mitigate_within": timedelta(hours=1),
                    "resolve_within": timedelta(hours=4),
                }
            ),
        }
    }
)


@pytest.fixture
def clocked(configured_harness: Callable[..., Harness]) -> tuple[Harness, FakeClock]:
    clock = FakeClock()
    return configured_harness(CONFIG, clock), clock


def posts(h: Harness, room: str, event_type: str) -> list[Any]:
    return [m for m in h.emu.channels[room].messages if (m.metadata or {}).get("event_type") == event_type]


def tick(h: Harness, clock: FakeClock, **delta: float) -> None:
    clock.advance(**delta)
    h.bot.runtime.tick()
    h.settle()


def test_warning_and_breach_are_posted_once_with_metadata_and_the_breach_is_on_the_timeline(
    clocked: tuple[Harness, FakeClock],
) -> None:
    h, clock = clocked
    h.command("declare sev1 Checkout is timing out")
    room = h.room(1).id
    tick(h, clock, minutes=3, seconds=50)
    assert posts(h, room, WARNING) == []
    tick(h, clock, seconds=10)
    tick(h, clock, seconds=5)
    (warning,) = posts(h, room, WARNING)
    assert warning.text.startswith(":hourglass: 1m left to acknowledge *INC-1* (target 5m)")
    payload = warning.metadata["event_payload"]
    assert payload["incident_id"] == 1 and payload["incident"] == "INC-1"
    assert (payload["target"], payload["target_s"], payload["left_s"]) == ("acknowledge_within", 300, 60)
    tick(h, clock, minutes=1, seconds=5)
    tick(h, clock, seconds=5)
    (breach,) = posts(h, room, BREACHED)
    assert breach.text.startswith(":rotating_light: *INC-1* missed its 5m acknowledgement target (5m since")
    payload = breach.metadata["event_payload"]
    assert (payload["target"], payload["target_s"]) == ("acknowledge_within", 300)
    assert payload["over_s"] == 10 and payload["elapsed_s"] == 310
    assert len(posts(h, room, WARNING)) == 1
    assert h.timeline_kinds(1).count("target_breached") == 1
    assert "target_warning" not in h.timeline_kinds(1)


def test_milestones_cancel_their_targets_and_the_postmortem_says_met_or_missed(
    clocked: tuple[Harness, FakeClock],
) -> None:
    h, clock = clocked
    h.command("declare sev1 Checkout is timing out")
    room = h.room(1).id
    tick(h, clock, minutes=6)  # acknowledgement missed: the breach alone, its warning is stale
    assert [len(posts(h, room, t)) for t in (WARNING, BREACHED)] == [0, 1]
    h.command("assign commander <@U2|bob>", channel=room)
    tick(h, clock, minutes=30)
    h.command("update monitoring Rolled back; watching", channel=room, user="U2")
    tick(h, clock, minutes=30)  # past the mitigation warning and breach: both cancelled
    h.command("resolve Rolled back the bad deploy", channel=room, user="U2")
    tick(h, clock, hours=4)
    assert [len(posts(h, room, t)) for t in (WARNING, BREACHED)] == [0, 1]

    (draft,) = shared_files(h, room)
    text = draft.content.decode()
    section = text.split("## Targets", 1)[1].split("## Impact", 1)[0]
    assert "- Acknowledge within 5m: missed, took 6m" in section
    assert "- Mitigate within 1h: met, took 36m" in section
    assert "- Resolve within 4h: met, took 1h6m" in section
    front = text.split("---\n", 2)[1]
    assert (
        "targets:\n- name: acknowledge_within\n  target_seconds: 300\n  actual_seconds: 360\n  met: false"
        in front
    )
    pm = load_postmortem(1, uow=h.bot.runtime.uow, settings=CONFIG)
    assert pm is not None
    record = json.loads(json.dumps(export_record(pm)))
    assert record["targets"] == [
        {"name": "acknowledge_within", "target_seconds": 300, "actual_seconds": 360, "met": False},
        {"name": "mitigate_within", "target_seconds": 3600, "actual_seconds": 2160, "met": True},
        {"name": "resolve_within", "target_seconds": 14400, "actual_seconds": 3960, "met": True},
    ]


def test_a_drills_target_posts_are_marked_as_drills(clocked: tuple[Harness, FakeClock]) -> None:
    h, clock = clocked
    h.command("declare --drill sev1 Practice: checkout down")
    room = h.room(1).id
    tick(h, clock, minutes=4)
    tick(h, clock, minutes=1)
    for event_type in (WARNING, BREACHED):
        (post,) = posts(h, room, event_type)
        assert post.text.startswith(DRILL_MARK) and post.metadata["event_payload"]["drill"] is True


def test_escalating_brings_the_new_severitys_targets_counted_from_the_declaration(
    clocked: tuple[Harness, FakeClock],
) -> None:
    h, clock = clocked
    h.command("declare sev2 Checkout is timing out")  # sev2 sets no targets
    room = h.room(1).id
    tick(h, clock, minutes=10)
    assert posts(h, room, WARNING) == posts(h, room, BREACHED) == []
    h.command("escalate sev1", channel=room)
    tick(h, clock, seconds=1)
    (breach,) = posts(h, room, BREACHED)
    assert "missed its 5m acknowledgement target (10m since declared)" in breach.text
    assert posts(h, room, WARNING) == []
    h.command("assign commander <@U1|alice>", channel=room)  # acknowledged (late), and may resolve
    h.command("resolve", channel=room)
    assert h.incident(1).status == "resolved"
    tick(h, clock, hours=5)
    assert len(posts(h, room, BREACHED)) == 1, "resolving stopped the mitigation and resolution targets"
