"""Declaring with a type, services, impact x urgency, and drills, over HTTP against the strict emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.emulator import SlackEmulator
from bot.ops.cli import main
from bot.ops.config import IncidentConfig
from bot.slack.ids import ActionId, BlockId
from tests.reliability.payloads import declare_values
from tests.scenario.conftest import FakeClock, Harness
from tests.scenario.test_postmortem import shared_files
from tests.scenario.test_socket_mode_serve import start_socket_mode_serve, wait_until

TRIAGE = IncidentConfig.model_validate(
    {
        "types": {
            "default": {"description": "Anything else"},
            "security": {"description": "Breaches and leaks", "private": True, "invite": ["U2", "S1"]},
            "gameday": {"description": "Practice", "drill": True},
        },
        "services": {"checkout": {"description": "Cart and payments", "invite": ["U4"]}, "search": {}},
        "priority": {"high": {"high": "sev1", "low": "sev2"}, "low": {"low": "sev3"}},
    }
)


def posts(h: Harness, channel: str) -> list[Any]:
    return [m for m in h.emu.channels[channel].messages if m.bot_id]


def event_types(h: Harness, channel: str) -> list[str]:
    return [(m.metadata or {}).get("event_type", "") for m in posts(h, channel)]


def test_a_type_and_services_set_privacy_invite_their_people_and_show_in_the_summary(
    configured_harness: Any,
) -> None:
    h: Harness = configured_harness(TRIAGE)
    h.command("declare sev2 --service checkout --type security --service search Signing key leaked")
    incident = h.incident(1)
    assert (incident.incident_type, incident.services, incident.private) == (
        "security",
        ["checkout", "search"],
        True,
    )
    room = h.room(1)
    assert room.is_private and room.name == "inc-1-signing-key-leaked"
    # The declarer, the type's person and group (S1: U3, U4, expanded when the room was made), the service's.
    assert {"U1", "U2", "U3", "U4"} <= room.members
    summary = posts(h, room.id)[0]
    assert "*Type:* security · *Services:* checkout, search" in summary.text
    assert summary.ts in room.pins
    invited = [e.text for e in h.timeline(1) if e.kind == "member_invited"]
    assert "Invited <@U2>, <@U4>, <@U3>" in invited  # people named, then the groups' members
    [announced] = posts(h, h.announce)
    assert "Signing key" not in announced.text and "security" not in announced.text  # private: no details
    assert "incident_invite_failed" not in event_types(h, room.id)


def test_no_type_is_the_default_type_and_a_public_announcement_names_the_services(
    configured_harness: Any,
) -> None:
    h: Harness = configured_harness(TRIAGE)
    h.command("declare --service checkout Cart errors")
    incident = h.incident(1)
    assert (incident.incident_type, incident.private, incident.drill) == ("default", False, False)
    assert {"U1", "U4"} <= h.room(1).members
    [announced] = posts(h, h.announce)
    assert "Type: default · Services: checkout" in announced.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("declare --type hr Payroll leak", "Unknown type `hr`. Known types: default, security, gameday."),
        (
            "declare --service billing Invoices late",
            "Unknown service `billing`. Known services: checkout, search.",
        ),
    ],
)
def test_an_unknown_type_or_service_is_refused_naming_the_known_ones(
    configured_harness: Any, text: str, expected: str
) -> None:
    h: Harness = configured_harness(TRIAGE)
    channels = set(h.emu.channels)
    answer = h.command(text).json()["text"]
    assert expected in answer and "Usage: `/incident declare" in answer
    with h.bot.runtime.uow() as tx:
        assert tx.incidents.list_since() == []
    assert set(h.emu.channels) == channels and not h.emu.calls_to("conversations.create")


def test_invites_slack_refuses_or_groups_that_do_not_exist_are_told_in_the_room(
    configured_harness: Any,
) -> None:
    config = TRIAGE.model_copy(
        update={
            "types": {
                "vendor": IncidentConfig.model_validate(
                    {"types": {"vendor": {"invite": ["U2", "U5", "S404", "U6"]}}}
                ).types["vendor"]
            }
        }
    )
    h: Harness = configured_harness(config)
    h.emu.add_user("U5", name="guest", restricted=True)
    h.emu.add_user("U6", name="gone", deleted=True)
    h.command("declare --type vendor Payments provider down")
    incident = h.incident(1)
    assert incident.provisioned_at is not None, "the invites that failed do not hold up the room"
    room = h.room(1)
    assert "U2" in room.members and "U5" not in room.members
    [notice] = [
        m for m in posts(h, room.id) if (m.metadata or {}).get("event_type") == "incident_invite_failed"
    ]
    assert "The user group `S404` does not exist" in notice.text
    assert "<@U5>: Slack refused (user_is_restricted)" in notice.text
    assert "<@U6>: Slack refused" in notice.text
    [failed] = [e for e in h.timeline(1) if e.kind == "invite_failed"]
    assert "S404" in failed.text and "<@U5>" in failed.text
    assert [c for c in h.emu.calls_to("conversations.invite") if c.args.get("force") in (True, "true", "1")]


def test_a_drill_is_named_and_marked_as_one_and_pages_nobody(
    configured_harness: Any, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h: Harness = configured_harness(TRIAGE)
    h.command("declare sev1 --drill Database failover")
    assert "Declared the drill *INC-1*" in h.replies()[-1]
    room = h.room(1)
    assert room.name == "drill-1-database-failover"
    assert room.topic.startswith("DRILL | INC-1")
    for message in [*posts(h, room.id), *posts(h, h.announce)]:
        assert message.text.startswith(":test_tube: *DRILL* "), message.text
        assert (message.metadata or {}).get("event_payload", {}).get("drill") is True

    h.command("escalate <@U4|dave> <!subteam^S1|@db-oncall>", channel=room.id)
    assert h.dms_to("U4") == [] and h.dms_to("U3") == [], "a drill pages nobody"
    assert "U4" not in room.members
    assert "It is a drill, so nobody was paged." in h.replies()[-1]
    told = posts(h, room.id)[-1]
    assert "Nobody was paged: this is a drill (2 would have been)." in told.text
    [escalated] = [e for e in h.timeline(1) if e.kind == "escalated"]
    assert escalated.data["paged"] == [] and escalated.data["not_paged"] == ["U4", "U3"]

    h.command("assign commander <@U1|alice>", channel=room.id)
    h.command("update identified Replica promoted", channel=room.id)
    h.command("resolve Failover worked", channel=room.id)
    marked = [m for m in posts(h, room.id) if not m.text.startswith(":test_tube: *DRILL* ")]
    assert marked == [], [m.text for m in marked]
    assert all(m.text.startswith(":test_tube: *DRILL* ") for m in posts(h, h.announce))
    [draft] = shared_files(h, room.id)
    front = draft.content.split(b"---\n")[1]
    assert b"drill: true\n" in front

    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.delenv("INCIDENTBOT_CONFIG", raising=False)
    out = tmp_path / "inc.json"
    assert main(["export", "INC-1", "--format", "json", "-o", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["drill"] is True and record["type"] == "default"


def test_a_drill_type_makes_a_drill(configured_harness: Any) -> None:
    h: Harness = configured_harness(TRIAGE)
    h.command("declare --type gameday Region evacuation")
    assert h.incident(1).drill is True
    assert h.room(1).name == "drill-1-region-evacuation"


def form_values(title: str, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = declare_values(title)
    values.pop(BlockId.SEVERITY)
    if "severity" in fields:
        values[BlockId.SEVERITY] = {
            ActionId.SEVERITY: {"type": "static_select", "selected_option": {"value": fields["severity"]}}
        }
    for block, action, key in (
        (BlockId.INCIDENT_TYPE, ActionId.INCIDENT_TYPE, "incident_type"),
        (BlockId.IMPACT, ActionId.IMPACT, "impact"),
        (BlockId.URGENCY, ActionId.URGENCY, "urgency"),
    ):
        chosen = fields.get(key)
        values[block] = {
            action: {"type": "static_select", "selected_option": {"value": chosen} if chosen else None}
        }
    values[BlockId.SERVICES] = {
        ActionId.SERVICES: {
            "type": "multi_static_select",
            "selected_options": [{"value": s} for s in fields.get("services", [])],
        }
    }
    values[BlockId.DRILL] = {
        ActionId.DRILL: {
            "type": "checkboxes",
            "selected_options": [{"value": "drill"}] if fields.get("drill") else [],
        }
    }
    return values


def open_form(h: Harness) -> tuple[str, dict[str, Any]]:
    h.command("declare")
    view_id, view = next(iter(h.emu.views.items()))
    return view_id, view


def test_the_form_asks_type_services_impact_urgency_and_drill_and_declares_with_them(
    configured_harness: Any,
) -> None:
    h: Harness = configured_harness(TRIAGE)
    view_id, view = open_form(h)
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert list(blocks) == [
        "title",
        "severity",
        "impact",
        "urgency",
        "incident_type",
        "services",
        "impact_started",
        "detected",
        "description",
        "private",
        "drill",
    ]
    assert blocks["severity"]["optional"] is True and "initial_option" not in blocks["severity"]["element"]
    assert blocks["incident_type"]["element"]["initial_option"]["value"] == "default"
    assert [o["value"] for o in blocks["services"]["element"]["options"]] == ["checkout", "search"]
    assert blocks["services"]["element"]["type"] == "multi_static_select"

    values = form_values(
        "Leaked token in logs",
        impact="high",
        urgency="high",
        incident_type="security",
        services=["checkout"],
        drill=True,
    )
    assert h.emu.submit_view(h.url, view_id, values, user_id="U1").status == 200
    h.settle()
    incident = h.incident(1)
    assert (incident.severity, incident.impact, incident.urgency) == ("sev1", "high", "high")
    assert (incident.incident_type, incident.services, incident.private, incident.drill) == (
        "security",
        ["checkout"],
        True,
        True,
    )
    room = h.room(1)
    assert room.name == "drill-1-leaked-token-in-logs" and room.is_private
    assert {"U2", "U3", "U4"} <= room.members
    assert "*Impact:* high · *Urgency:* high" in posts(h, room.id)[0].text


def test_a_severity_chosen_in_the_form_wins_over_impact_and_urgency(configured_harness: Any) -> None:
    h: Harness = configured_harness(TRIAGE)
    view_id, _ = open_form(h)
    h.emu.submit_view(
        h.url, view_id, form_values("Slow", severity="sev3", impact="high", urgency="high"), user_id="U1"
    )
    h.settle()
    assert h.incident(1).severity == "sev3"


def test_a_form_left_without_severity_or_answers_takes_the_default(configured_harness: Any) -> None:
    h: Harness = configured_harness(TRIAGE)
    view_id, _ = open_form(h)
    h.emu.submit_view(h.url, view_id, form_values("Slow search", impact="high"), user_id="U1")
    h.settle()
    assert (h.incident(1).severity, h.incident(1).incident_type) == ("sev4", "default")


def test_a_form_naming_a_service_no_longer_configured_is_refused_on_its_field(
    configured_harness: Any,
) -> None:
    h: Harness = configured_harness(TRIAGE)
    view_id, _ = open_form(h)
    result = h.emu.submit_view(h.url, view_id, form_values("Slow", services=["billing"]), user_id="U1")
    assert result.json()["errors"] == {"services": "Unknown services billing: choose listed ones."}
    h.settle()
    with h.bot.runtime.uow() as tx:
        assert tx.incidents.list_since() == []


def test_without_triage_config_the_form_has_only_the_drill_checkbox_added(harness: Harness) -> None:
    view_id, view = open_form(harness)
    assert [b["block_id"] for b in view["blocks"]] == [
        "title",
        "severity",
        "impact_started",
        "detected",
        "description",
        "private",
        "drill",
    ]
    assert view["blocks"][1]["element"]["initial_option"]["value"] == "sev4"
    values = declare_values("Practice run", "sev2")
    values[BlockId.DRILL] = {ActionId.DRILL: {"type": "checkboxes", "selected_options": [{"value": "drill"}]}}
    harness.emu.submit_view(harness.url, view_id, values, user_id="U1")
    harness.settle()
    assert harness.incident(1).drill is True and harness.room(1).name == "drill-1-practice-run"


def test_a_hundred_and_fifty_services_fit_the_form_in_option_groups(configured_harness: Any) -> None:
    services = {f"svc-{n:03}": {} for n in range(150)}
    h: Harness = configured_harness(IncidentConfig.model_validate({"services": services}))
    view_id, view = open_form(h)
    assert h.emu.calls_to("views.open")[-1].ok, "Slack's limits hold"
    element = next(b for b in view["blocks"] if b["block_id"] == "services")["element"]
    groups = element["option_groups"]
    assert [len(g["options"]) for g in groups] == [100, 50]
    assert groups[1]["label"]["text"] == "svc-100 – svc-149"


def test_invites_survive_slack_failing_and_are_told_once_after_retries(configured_harness: Any) -> None:
    clock = FakeClock()
    vendor = {"types": {"vendor": {"invite": ["S1", "S404", "U5"]}}}
    h: Harness = configured_harness(IncidentConfig.model_validate(vendor), clock)
    h.emu.add_user("U5", name="guest", restricted=True)
    h.emu.fail("usergroups.users.list", status=500, times=4)  # the client's own retries, then the job's
    h.emu.fail("chat.postMessage", status=500, times=8)
    h.command("declare --type vendor Payments provider down")
    for _ in range(8):
        clock.advance(seconds=60)
        h.bot.runtime.tick()
        h.settle()
    assert h.incident(1).provisioned_at is not None
    assert len([c for c in h.emu.calls_to("usergroups.users.list") if c.status == 500]) == 4, "it was retried"
    room = h.room(1)
    assert {"U1", "U3", "U4"} <= room.members
    kinds = event_types(h, room.id)
    assert kinds.count("incident_invite_failed") == 1 and kinds.count("incident_declared") == 1
    assert [e.kind for e in h.timeline(1)].count("invite_failed") == 1


def test_the_declare_options_work_over_socket_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "incidentbot.toml"
    config.write_text(
        '[types.security]\nprivate = true\ninvite = ["U2"]\n\n[services.checkout]\ninvite = ["S1"]\n'
    )
    monkeypatch.setenv("INCIDENTBOT_CONFIG", str(config))
    with SlackEmulator() as emu:
        emu.add_channel("incidents")
        for user in ("U1", "U2", "U3"):
            emu.add_user(user, name=user.lower())
        emu.add_usergroup("S1", handle="checkout-oncall", users=["U3"])
        proc = start_socket_mode_serve(emu, f"sqlite:///{tmp_path / 'bot.db'}", Path.cwd())
        try:
            assert emu.socket_connected(30), f"no Socket Mode connection (exit code {proc.poll()})"
            refused = emu.socket_send_command("declare --type hr Payroll")
            assert "Unknown type `hr`. Known types: security." in str(refused.get("text", ""))
            ack = emu.socket_send_command("declare --drill --type security --service checkout Token leaked")
            assert "Token leaked" in str(ack.get("text", ""))
            wait_until(lambda: emu.channel_by_name("drill-1-token-leaked") is not None)
            room = emu.channel_by_name("drill-1-token-leaked")
            assert room is not None and room.is_private
            wait_until(lambda: {"U1", "U2", "U3"} <= emu.channels[room.id].members)
            wait_until(lambda: len(emu.channels[room.id].messages) >= 1)
            assert emu.channels[room.id].messages[0].text.startswith(":test_tube: *DRILL* ")
            assert proc.poll() is None
        finally:
            proc.terminate()
            proc.wait(timeout=10)
