"""Editing and reopening incidents, driven over HTTP (and Socket Mode) against the Slack emulator."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.emulator import SlackEmulator
from bot.ops.config import IncidentConfig, ServiceConfig, TypeConfig
from bot.slack.ids import ActionId, BlockId
from tests.reliability import payloads
from tests.scenario.conftest import FakeClock, Harness
from tests.scenario.test_serve_process import wait_in_room, wait_until

EDITED = "incident_edited"
REOPENED = "incident_reopened"
TRIAGE = IncidentConfig(
    types={"default": TypeConfig(), "security": TypeConfig(description="Breaches and leaks")},
    services={"checkout": ServiceConfig(description="Cart and payment"), "search": ServiceConfig()},
    rename_rooms=True,
    admins=["U4"],
)


def declared(h: Harness, text: str = "declare sev2 Checkout is timing out") -> str:
    h.command(text)
    return str(h.room(1).id)


def posts(h: Harness, channel: str, event_type: str) -> list[Any]:
    return [m for m in h.emu.channels[channel].messages if (m.metadata or {}).get("event_type") == event_type]


def edit_values(
    title: str, description: str = "", incident_type: str | None = None, services: tuple[str, ...] = ()
) -> dict[str, Any]:
    values: dict[str, Any] = {
        BlockId.TITLE: {ActionId.TITLE: {"type": "plain_text_input", "value": title}},
        BlockId.DESCRIPTION: {ActionId.DESCRIPTION: {"type": "plain_text_input", "value": description}},
    }
    if incident_type is not None:
        option = {"value": incident_type}
        values[BlockId.INCIDENT_TYPE] = {
            ActionId.INCIDENT_TYPE: {"type": "static_select", "selected_option": option}
        }
    values[BlockId.SERVICES] = {
        ActionId.SERVICES: {
            "type": "multi_static_select",
            "selected_options": [{"value": s} for s in services],
        }
    }
    return values


def test_edit_title_by_command_updates_summary_topic_and_room_without_renaming(harness: Harness) -> None:
    h = harness
    room = declared(h)
    h.command("edit title Checkout 504s for <!channel> EU", channel=room)
    assert h.incident(1).title == "Checkout 504s for @channel EU"
    (post,) = posts(h, room, EDITED)
    assert "<@U1> edited *INC-1*" in post.text
    assert "*Title:* Checkout is timing out → Checkout 504s for @\u2060channel EU" in post.text
    assert post.metadata["event_payload"]["incident"] == "INC-1"
    assert "Checkout 504s for @\u2060channel EU" in h.emu.channels[room].messages[0].text, "the summary"
    assert "Checkout 504s" in h.emu.channels[room].topic
    assert h.emu.channels[room].name == "inc-1-checkout-is-timing-out", "rename_rooms is off by default"
    assert h.emu.calls_to("conversations.rename") == []
    assert "INC-1 edited; the war room shows the change." in h.replies()[-1]
    assert h.timeline_kinds(1)[-1] == "edited"

    h.command("edit title Checkout 504s for @channel EU", channel=room)
    assert "Nothing changed" in h.replies()[-1]
    h.command("edit description Only EU shoppers, since the 14:02 deploy", channel=room)
    assert h.incident(1).description == "Only EU shoppers, since the 14:02 deploy"
    assert "Only EU shoppers" in posts(h, room, EDITED)[-1].text
    assert h.timeline_kinds(1).count("edited") == 2


def test_edit_bad_input_changes_nothing(harness: Harness) -> None:
    h = harness
    room = declared(h)
    assert "A title cannot be empty" in h.command("edit title", channel=room).json()["text"]
    assert "limit is 200" in h.command("edit title " + "x" * 201, channel=room).json()["text"]
    assert (
        "name `title`, `description`, `impact-started` or `detected`"
        in h.command("edit severity sev1", channel=room).json()["text"]
    )
    h.command("edit title Elsewhere")
    assert "works inside an incident's war room" in h.replies()[-1]
    assert "edited" not in h.timeline_kinds(1) and h.incident(1).title == "Checkout is timing out"
    assert posts(h, room, EDITED) == []


def test_rename_rooms_renames_with_the_title_and_steps_past_a_taken_name(
    configured_harness: Callable[..., Harness],
) -> None:
    h = configured_harness(TRIAGE)
    room = declared(h)
    h.command("edit title DB failover", channel=room)
    assert h.emu.channels[room].name == "inc-1-db-failover"
    assert h.incident(1).channel_name == "inc-1-db-failover"
    h.emu.add_channel("inc-1-checkout-down")  # someone has the next name already
    h.command("edit title Checkout down", channel=room)
    assert h.emu.channels[room].name == "inc-1-checkout-down-2"
    assert h.incident(1).channel_name == "inc-1-checkout-down-2"
    assert [e.text for e in h.timeline(1) if e.kind == "room_renamed"] == [
        "Renamed the war room to #inc-1-db-failover",
        "Renamed the war room to #inc-1-checkout-down-2",
    ]
    before = len(h.emu.calls_to("conversations.rename"))
    h.command("edit description No rename for a description", channel=room)
    h.command("edit title Checkout DOWN!", channel=room)  # same slug: the room keeps its name
    assert len(h.emu.calls_to("conversations.rename")) == before
    assert h.emu.channels[room].name == "inc-1-checkout-down-2"

    h.command("declare --drill sev3 Failover practice")
    drill = str(h.room(2).id)
    assert h.emu.channels[drill].name == "drill-2-failover-practice"
    h.command("edit title Region failover practice", channel=drill)
    assert h.emu.channels[drill].name == "drill-2-region-failover-practice", "a drill keeps its prefix"


def test_edit_form_prefills_and_its_submission_changes_everything_once(
    configured_harness: Callable[..., Harness],
) -> None:
    h = configured_harness(TRIAGE)
    room = declared(h)
    h.command("edit description p99 over 5s", channel=room)
    h.command("edit", channel=room)
    (opened,) = h.emu.calls_to("views.open")
    blocks = {b["block_id"]: b for b in opened.args["view"]["blocks"]}
    assert blocks[BlockId.TITLE]["element"]["initial_value"] == "Checkout is timing out"
    assert blocks[BlockId.DESCRIPTION]["element"]["initial_value"] == "p99 over 5s"
    assert blocks[BlockId.INCIDENT_TYPE]["element"]["initial_option"]["value"] == "default"  # as declared
    assert [o["value"] for o in blocks[BlockId.SERVICES]["element"]["options"]] == ["checkout", "search"]
    assert "initial_options" not in blocks[BlockId.SERVICES]["element"]

    view_id = next(iter(h.emu.views))
    values = edit_values("Card data exposed", "Leaked in logs", "security", ("checkout",))
    submission = payloads.view_submission(h.emu, view_id, values, user="U1")
    assert h.emu.send_interaction(h.url, submission).status == 200
    assert h.emu.send_interaction(h.url, submission, retry_num=1).status == 200  # Slack's retry
    h.settle()
    incident = h.incident(1)
    assert (incident.title, incident.description, incident.incident_type, incident.services) == (
        "Card data exposed",
        "Leaked in logs",
        "security",
        ["checkout"],
    )
    assert h.timeline_kinds(1).count("edited") == 2, "the retried submission acted once"
    post = posts(h, room, EDITED)[-1]
    assert "*Type:* default → security" in post.text and "*Services:* none → checkout" in post.text
    assert h.emu.channels[room].name == "inc-1-card-data-exposed"
    assert len(posts(h, room, EDITED)) == 2

    h.command("edit", channel=room)
    reopened = h.emu.calls_to("views.open")[-1].args["view"]
    blocks = {b["block_id"]: b for b in reopened["blocks"]}
    assert blocks[BlockId.INCIDENT_TYPE]["element"]["initial_option"]["value"] == "security"
    assert [o["value"] for o in blocks[BlockId.SERVICES]["element"]["initial_options"]] == ["checkout"]


def test_edit_form_without_types_or_services_shows_title_and_description(harness: Harness) -> None:
    h = harness
    room = declared(h)
    h.command("edit", channel=room)
    (opened,) = h.emu.calls_to("views.open")
    assert [b["block_id"] for b in opened.args["view"]["blocks"]] == [BlockId.TITLE, BlockId.DESCRIPTION]
    view_id = next(iter(h.emu.views))
    empty = h.emu.submit_view(h.url, view_id, edit_values("   "), user_id="U1")
    assert empty.json()["errors"] == {BlockId.TITLE: "An incident needs a title."}
    h.emu.submit_view(h.url, view_id, edit_values("Checkout is timing out"), user_id="U1")
    h.settle()
    assert "Nothing changed" in h.emu.channels[room].ephemerals[-1].text
    assert "edited" not in h.timeline_kinds(1)


def test_edit_is_refused_on_every_path_to_someone_who_may_not(
    configured_harness: Callable[..., Harness],
) -> None:
    h = configured_harness(TRIAGE)
    room = declared(h)
    h.command("assign commander <@U2|bob>", channel=room)
    h.emu.channels[room].members.add("U3")
    h.command("edit title Hijacked", channel=room, user="U3")
    assert "Only the commander or an admin may edit INC-1. The commander is <@U2>." in h.replies()[-1]
    opened = len(h.emu.calls_to("views.open"))
    h.command("edit", channel=room, user="U3")
    assert "may edit INC-1" in h.replies()[-1]
    assert len(h.emu.calls_to("views.open")) == opened, "no form for someone who may not edit"

    h.command("edit", channel=room, user="U2")  # the commander opens the form; carol submits it
    view_id = list(h.emu.views)[-1]
    refused = h.emu.submit_view(h.url, view_id, edit_values("Hijacked"), user_id="U3")
    assert "may edit INC-1" in refused.json()["errors"][BlockId.TITLE]
    assert h.incident(1).title == "Checkout is timing out" and "edited" not in h.timeline_kinds(1)
    h.command("edit title By an admin", channel=room, user="U4")
    assert h.incident(1).title == "By an admin"


def shared_drafts(h: Harness, room: str) -> list[Any]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(
        f.completed and not f.channel_ids for f in h.emu.files.values()
    ):
        time.sleep(0.05)
    return [f for f in h.emu.files.values() if f.completed and room in f.channel_ids]


def test_reopen_resumes_reminders_and_the_next_resolve_shares_a_second_draft(
    configured_harness: Callable[..., Harness],
) -> None:
    clock = FakeClock()
    h = configured_harness(IncidentConfig(), clock)
    room = declared(h)
    h.command("assign commander <@U1|alice>", channel=room)
    h.command("reopen too early", channel=room)
    assert "INC-1 is not resolved (it is investigating): nothing to reopen." in h.replies()[-1]
    h.command("resolve Rolled back", channel=room)
    assert len(shared_drafts(h, room)) == 1
    announced = len(h.emu.channels[h.announce].messages)

    clock.advance(hours=2)
    h.bot.runtime.tick()
    h.settle()
    reminders_before = len(posts(h, room, "incident_update_reminder"))
    h.command("reopen Errors are back", channel=room, user="U2")
    assert "Only the commander or an admin may reopen INC-1" in h.replies()[-1]
    assert h.incident(1).status == "resolved"

    h.command("reopen Errors are back", channel=room)
    incident = h.incident(1)
    assert incident.status == "investigating" and incident.resolved_at is None
    assert incident.postmortem_outdated_at is not None and incident.archive_due_at is None
    (post,) = posts(h, room, REOPENED)
    assert "*INC-1 is open again*, reopened by <@U1>" in post.text and "> Errors are back" in post.text
    assert "postmortem draft shared at the resolution is now outdated" in post.text
    assert "uploaded here when INC-1 is resolved again" in post.text
    (announcement,) = posts(h, h.announce, REOPENED)
    assert "is open again" in announcement.text and len(h.emu.channels[h.announce].messages) == announced + 1
    summary = h.emu.channels[room].messages[0]
    assert "investigating" in summary.text and "Resolved at" not in summary.text
    assert summary.blocks[-1]["type"] == "actions", "the summary's buttons are back"
    assert "investigating" in h.emu.channels[room].topic
    assert "INC-1 is open again" in h.replies()[-1]
    assert [e.text for e in h.timeline(1) if e.kind == "reopened"] == ["Reopened: Errors are back"]

    clock.advance(minutes=31)  # sev2 asks for an update every 30 minutes
    h.bot.runtime.tick()
    h.settle()
    assert len(posts(h, room, "incident_update_reminder")) == reminders_before + 1, "reminders resumed"

    h.command("resolve Fixed for real", channel=room)
    drafts = shared_drafts(h, room)
    assert len(drafts) == 2, "the next resolve shares a fresh draft"
    resolutions = posts(h, room, "incident_resolved")
    assert len(resolutions) == 2 and "Fixed for real" in resolutions[-1].text, "the room hears it again"
    assert "Fixed for real" in posts(h, h.announce, "incident_resolved")[-1].text
    assert h.incident(1).postmortem_outdated_at is None
    assert b"Reopened: Errors are back" in drafts[-1].content
    assert b"Fixed for real" in drafts[-1].content


def test_a_private_incident_reopens_without_an_announcement(harness: Harness) -> None:
    h = harness
    room = declared(h, "declare --private sev1 Payroll leak")
    h.command("assign commander <@U1|alice>", channel=room)
    h.command("resolve", channel=room)
    before = len(h.emu.channels[h.announce].messages)
    h.command("reopen", channel=room)
    assert len(posts(h, room, REOPENED)) == 1
    assert len(h.emu.channels[h.announce].messages) == before
    assert "INC-1 is open again; the war room heard it." in h.replies()[-1]


def test_edit_form_and_reopen_over_socket_mode(tmp_path: Path) -> None:
    config = tmp_path / "incidentbot.toml"
    config.write_text('rename_rooms = true\nadmins = ["U1"]\n')
    with SlackEmulator() as emu:
        emu.add_user("U1", name="alice")
        emu.add_channel("incidents")
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": emu.bot_token,
            "SLACK_APP_TOKEN": emu.app_token,
            "SLACK_API_URL": emu.api_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            "INCIDENTBOT_CONFIG": str(config),
            "LOG_LEVEL": "WARNING",
        }
        env.pop("SLACK_SIGNING_SECRET", None)
        env.pop("PORT", None)
        proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, cwd=Path.cwd())
        try:
            assert emu.socket_connected(30), f"no Socket Mode connection (exit code {proc.poll()})"
            emu.socket_send_command("declare sev2 API down")
            room = wait_in_room(emu, "inc-1-api-down")
            channel = emu.channels[room]
            emu.socket_send_command("edit", channel_id=room)
            wait_until(lambda: bool(emu.views))
            view_id = next(iter(emu.views))
            submission = payloads.view_submission(emu, view_id, edit_values("API gateway down"), user="U1")
            ack = emu.socket_send_interaction(submission)
            assert "errors" not in ack, ack
            wait_until(lambda: emu.channels[room].name == "inc-1-api-gateway-down")
            wait_until(lambda: any((m.metadata or {}).get("event_type") == EDITED for m in channel.messages))
            emu.socket_send_command("resolve", channel_id=room)
            wait_until(lambda: "resolved" in emu.channels[room].topic)
            emu.socket_send_command("reopen Not fixed", channel_id=room)
            wait_until(
                lambda: any((m.metadata or {}).get("event_type") == REOPENED for m in channel.messages)
            )
            wait_until(lambda: "investigating" in emu.channels[room].topic)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def test_a_reopened_room_is_not_archived_until_resolved_again(
    configured_harness: Callable[..., Harness],
) -> None:
    clock = FakeClock()
    h = configured_harness(IncidentConfig(), clock)
    room = declared(h)
    h.command("assign commander <@U1|alice>", channel=room)
    h.command("resolve", channel=room)
    clock.advance(days=6)
    h.command("reopen Customers still see errors", channel=room)
    clock.advance(days=2)  # past the first resolution's archive_after (7d)
    h.bot.runtime.tick()
    h.settle()
    assert not h.emu.channels[room].archived and h.incident(1).archived_at is None
    h.command("resolve", channel=room)
    clock.advance(days=7, seconds=1)
    h.bot.runtime.tick()
    h.settle()
    assert h.emu.channels[room].archived, "archived archive_after the second resolution"
