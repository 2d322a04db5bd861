"""Messages people read: user text is shown as typed, never pings, and times carry date and zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.ops.config import format_duration
from bot.render.presenter import SlackPresenter, TemplateRenderer
from commands.mrkdwn import escape
from commands.views import IncidentView

NOW = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)


class FixedClock:
    def now(self) -> datetime:
        return NOW


def incident(**kw: object) -> IncidentView:
    base: dict[str, object] = dict(
        id=7,
        title="Checkout <!channel> & @here <b>",
        description="",
        severity="sev2",
        status="investigating",
        private=False,
        declared_by="U1",
        declared_at=NOW - timedelta(hours=1, minutes=5),
        channel_id="C9",
        channel_name="inc-7-checkout",
    )
    base.update(kw)
    return IncidentView(**base)  # type: ignore[arg-type]


def presenter(zone: str = "UTC", override: Path | None = None) -> SlackPresenter:
    return SlackPresenter(TemplateRenderer(zone=ZoneInfo(zone), clock=FixedClock(), override_dir=override))


def test_escape_neutralises_mentions_and_control_characters() -> None:
    out = escape("<!channel> @channel @HERE @everyone a&b <@U1>")
    assert "<" not in out and ">" not in out
    assert "@channel" not in out and "@HERE" not in out and "@everyone" not in out
    assert "a&amp;b" in out and "&lt;!channel&gt;" in out


def test_summary_escapes_title_but_keeps_bot_mentions() -> None:
    msg = presenter().summary(incident())
    assert "<!channel>" not in msg.text and "@here" not in msg.text
    assert "<@U1>" in msg.text  # the declarer is a real mention the bot made
    assert msg.event_type == "incident_declared"
    assert msg.event_payload["incident_id"] == 7
    assert msg.blocks and msg.blocks[0]["type"] == "section"


def test_private_announcement_reveals_no_title() -> None:
    msg = presenter().announcement(incident(private=True, title="Payroll leak"))
    assert "Payroll" not in msg.text and "INC-7" in msg.text
    assert "Payroll" not in str(msg.event_payload) and "Payroll" not in str(msg.blocks)


def test_times_show_date_in_configured_zone() -> None:
    text = presenter("Europe/Paris").status_reply(incident())
    assert "2026-11-26 19:55 CET" in text
    assert "1h 5m ago" in text


def test_jinja_syntax_in_user_text_is_printed_not_evaluated() -> None:
    msg = presenter().summary(incident(title="{{ 7*7 }} {% if true %}x{% endif %}"))
    assert "{{ 7*7 }}" in msg.text and "49" not in msg.text


def test_broken_override_falls_back_to_shipped_template(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "summary.mrkdwn.j2").write_text("line one\n{% if %}\n")
    msg = presenter(override=tmp_path).summary(incident())
    assert "INC-7" in msg.text
    assert "summary.mrkdwn.j2" in caplog.text and "line 2" in caplog.text


def test_override_template_is_used(tmp_path: Path) -> None:
    (tmp_path / "topic.mrkdwn.j2").write_text("{{ incident.ref }} custom")
    assert presenter(override=tmp_path).topic(incident()) == "INC-7 custom"


def test_format_duration() -> None:
    assert format_duration(timedelta(seconds=42), approximate=True) == "42s"
    assert format_duration(timedelta(minutes=4, seconds=3), approximate=True) == "4m"
    assert format_duration(timedelta(hours=26), approximate=True) == "1d 2h"
    assert format_duration(timedelta(hours=1, minutes=30)) == "1h30m"


def test_stale_notice_names_the_lead_says_how_long_and_offers_update_and_resolve() -> None:
    payload = {
        "due": "2026-11-26T19:00:00+00:00",
        "target": "U4",
        "quiet_since": (NOW - timedelta(hours=26)).isoformat(),
    }
    msg = presenter().stale_notice(incident(), payload)
    assert "<@U4>" in msg.text and "1d 2h" in msg.text and "INC-7" in msg.text
    assert msg.event_type == "incident_stale"
    assert msg.event_payload["key"] == f"stale:{payload['due']}"
    assert msg.blocks is not None
    buttons = msg.blocks[1]["elements"]
    assert [b["action_id"] for b in buttons] == ["open_update_modal", "stale_resolve"]


def test_with_nobody_to_address_the_stale_notice_and_the_reminder_ask_the_room() -> None:
    """An alert-declared incident nobody commands: the nudges speak to the room, not to "Alertmanager"."""
    stale = {"due": "2026-11-26T19:00:00+00:00", "target": None, "quiet_since": NOW.isoformat()}
    text = presenter().stale_notice(incident(), stale).text
    assert text.startswith(":zzz: Nobody is in command: nothing has happened on *INC-7*")
    reminder = {"due": "2026-11-26T19:00:00+00:00", "count": 2, "target": None, "escalate": False}
    text = presenter().update_reminder(incident(), reminder).text
    assert text.startswith(":alarm_clock: Nobody has taken command yet: stakeholders have had no update")
    assert text.endswith("Please post one, or take command with `/incident assign commander @you`.")
    assert "<@" not in text and "nobody:" not in text.lower()


def test_archive_notice_says_what_stays_and_how_to_reopen() -> None:
    msg = presenter().archive_notice(incident(status="resolved", resolved_at=NOW - timedelta(days=7)))
    assert msg.event_type == "incident_archived" and msg.event_payload["incident_id"] == 7
    assert "archiving this room" in msg.text and "postmortem" in msg.text and "/incident reopen" in msg.text


def test_a_drill_is_marked_in_every_post_its_topic_and_its_metadata(tmp_path: Path) -> None:
    drill = incident(drill=True, title="Failover")
    plain = presenter()
    # An operator's own template knows nothing of drills: the mark is added whatever it says.
    (tmp_path / "announcement.mrkdwn.j2").write_text("{{ incident.ref }} declared\n")
    custom = presenter(override=tmp_path)
    update = {"event_id": 1, "status": "identified", "status_changed": True, "message": "m", "by": "U1"}
    escalation = {"event_id": 2, "by": "U1", "from": "sev2", "to": "sev2", "severity_changed": False}
    messages = [
        plain.summary(drill),
        plain.announcement(drill),
        custom.announcement(drill),
        plain.resolution(drill),
        plain.resolution_announcement(drill),
        plain.update(drill, update),
        plain.update_announcement(drill, update),
        plain.escalation(drill, {**escalation, "users": [], "groups": []}),
        plain.page(drill, "U1"),
    ]
    for message in messages:
        assert message.text.startswith(":test_tube: *DRILL* "), message.text
        assert message.event_payload["drill"] is True
    assert plain.topic(drill).startswith("DRILL | INC-7")
    assert plain.status_reply(drill).startswith(":test_tube: *DRILL*")
    assert ":test_tube: DRILL *INC-7*" in plain.list_reply([drill])
    real = plain.summary(incident())
    assert "DRILL" not in real.text and "drill" not in real.event_payload
    assert "DRILL" not in plain.topic(incident())


def test_a_drill_escalation_tells_the_room_nobody_was_paged() -> None:
    payload = {
        "event_id": 2,
        "by": "U1",
        "from": "sev2",
        "to": "sev1",
        "severity_changed": True,
        "users": ["U2"],
        "groups": ["S1"],
        "paged": [],
        "drill": True,
        "not_paged": ["U2", "U3"],
    }
    text = presenter().escalation(incident(drill=True), payload).text
    assert "Nobody was paged: this is a drill (2 would have been)." in text
    assert "<@U2>" not in text and "Paged:" not in text
    # Payloads recorded before drills existed still render.
    old = {k: v for k, v in payload.items() if k not in ("drill", "not_paged")}
    assert "Paged: <@U2>" in presenter().escalation(incident(), old).text


def test_summary_and_announcement_show_the_type_services_and_priority() -> None:
    view = incident(incident_type="security", services=("checkout", "api"), impact="high", urgency="low")
    summary = presenter().summary(view).text
    assert "*Type:* security · *Services:* checkout, api" in summary
    assert "*Impact:* high · *Urgency:* low" in summary
    assert "Type: security · Services: checkout, api" in presenter().announcement(view).text
    assert "Services:" not in presenter().announcement(incident(services=("api",), private=True)).text
    bare = presenter().summary(incident()).text
    assert "Type:" not in bare and "Services:" not in bare and "Impact" not in bare


def test_invite_problems_name_the_missing_groups_and_the_refused_people() -> None:
    problems = {"groups": ["S9"], "refused": {"U5": "user_is_restricted"}}
    message = presenter().invite_problems(incident(), problems)
    assert "The user group `S9` does not exist" in message.text
    assert "<@U5>: Slack refused (user_is_restricted)." in message.text
    assert message.event_type == "incident_invite_failed"


def test_announce_failed_names_the_channel_and_the_declarer_but_never_an_alerting_source() -> None:
    message = presenter().announce_failed(incident(), "stakeholders", "update", key="update:3:failed")
    assert message.text.startswith(":warning: <@U1> I could not announce the update of *INC-7*")
    assert "announce channel `stakeholders`" in message.text and "`announce_channel`" in message.text
    assert message.event_type == "incident_announce_failed"
    assert message.event_payload["key"] == "update:3:failed"
    alerted = incident(declared_by="source:Alertmanager")
    from_alert = presenter().announce_failed(alerted, "x", "incident", "k")
    assert from_alert.text.startswith(":warning: I could not announce") and "source:" not in from_alert.text
