"""Detection and impact times, `/incident mitigated` and typed action items, over HTTP (emulator)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.ops.config import IncidentConfig
from bot.slack.ids import ActionId, BlockId
from tests.postmortem_markdown import SECTIONS, headings, split
from tests.reliability.payloads import declare_values
from tests.scenario.conftest import FakeClock, Harness
from tests.scenario.test_postmortem import shared_files

BERLIN = ZoneInfo("Europe/Berlin")


def posts(h: Harness, channel: str, event_type: str) -> list[Any]:
    return [m for m in h.emu.channels[channel].messages if (m.metadata or {}).get("event_type") == event_type]


def said(h: Harness, text: str, room: str) -> str:
    """What the person was told: the acknowledgement's text (a parse error), else the later reply."""
    body = h.command(text, channel=room).json()
    return str(body["text"]) if body else h.replies()[-1]


def _start(configured_harness: Callable[..., Harness]) -> tuple[Harness, FakeClock, str]:
    clock = FakeClock()
    h = configured_harness(IncidentConfig(timezone="Europe/Berlin"), clock)
    h.command("declare sev2 Checkout is timing out")
    return h, clock, str(h.room(1).id)


def test_times_are_recorded_refused_and_shown_in_the_draft(
    configured_harness: Callable[..., Harness],
) -> None:
    h, clock, room = _start(configured_harness)
    now = clock.now()
    started = (now - timedelta(minutes=50)).replace(second=0, microsecond=0)
    detected = (now - timedelta(minutes=20)).astimezone(BERLIN).replace(second=0, microsecond=0)

    h.command(f"edit impact-started {started.isoformat()}", channel=room)
    assert h.incident(1).impact_started_at == started
    assert "Impact started recorded for INC-1; the war room has it." in h.replies()[-1]
    h.command(f"edit detected {detected:%H:%M}", channel=room)
    assert h.incident(1).detected_at == detected, "HH:MM is today in the configured zone"
    (first, second) = posts(h, room, "incident_edited")
    assert "*Impact started:* not set → " in first.text and f"{detected:%H:%M}" in second.text
    assert h.timeline_kinds(1)[-2:] == ["impact_started_set", "detected_set"]

    # Refusals change nothing: a future time, impact after detection, words that are no time.
    future = (now + timedelta(hours=2)).isoformat()
    assert "is in the future" in said(h, f"edit detected {future}", room)
    later = (detected + timedelta(minutes=5)).isoformat()
    refused = said(h, f"edit impact-started {later}", room)
    assert "Impact cannot start" in refused and "Nothing changed" in refused
    refused = said(h, "edit detected <!channel> soon", room)
    assert "is not a time" in refused and "<!channel>" not in refused
    assert h.incident(1).impact_started_at == started and h.incident(1).detected_at == detected
    assert len(posts(h, room, "incident_edited")) == 2

    h.command("action Add a canary for checkout type prevent", channel=room)
    h.command("action Roll back faster type mitigate", channel=room)
    h.command("action Fix the type checker", channel=room)
    h.command("mitigated rolled back the 14:02 deploy", channel=room)
    mitigated = h.incident(1).mitigated_at
    assert mitigated is not None and h.incident(1).status == "investigating", "the status stays"
    clock.advance(minutes=10)
    h.command("assign commander <@U1|alice>", channel=room)
    h.command("resolve Rolled back", channel=room)
    assert h.incident(1).status == "resolved", h.replies()[-1]
    h.command("postmortem", channel=room)

    draft = shared_files(h, room)[-1].content.decode()
    front, body = split(draft)
    assert front["impact_started"] == started.astimezone(BERLIN).isoformat()
    assert front["detected"] == detected.isoformat()
    assert front["time_to_detect"] == int((detected - started).total_seconds())
    assert front["impact_duration"] == int((mitigated - started).total_seconds()), "to mitigation"
    assert headings(body)[1:] == SECTIONS
    assert f"- Detected: {detected:%Y-%m-%d %H:%M:%S} {detected.tzname()}, 30m after impact started" in body
    groups = body.split("## Action items", 1)[1].split("## Checklist", 1)[0]
    assert groups.index("**Mitigate**") < groups.index("Roll back faster") < groups.index("**Prevent**")
    assert groups.index("Add a canary") < groups.index("**Other**") < groups.index("Fix the type checker")


def test_mitigated_marks_once_and_tells_the_room(configured_harness: Callable[..., Harness]) -> None:
    h, clock, room = _start(configured_harness)
    h.command("mitigated <!here> failover to &lt;b&gt;eu-west&lt;/b&gt;", channel=room)  # as Slack sends it
    incident = h.incident(1)
    assert incident.mitigated_at == clock.now() and incident.status == "investigating"
    (post,) = posts(h, room, "incident_mitigated")
    assert "<@U1> marked *INC-1* mitigated" in post.text and "status stays *investigating*" in post.text
    assert "&lt;b&gt;eu-west&lt;/b&gt;" in post.text and "<!here>" not in post.text
    assert "INC-1 marked mitigated; the war room has it." in h.replies()[-1]
    assert h.timeline_kinds(1)[-1] == "mitigated_marked"

    first = incident.mitigated_at
    clock.advance(minutes=5)
    h.command("update monitoring Watching the error rate", channel=room)
    h.command("mitigated again", channel=room)
    assert "was already mitigated at" in h.replies()[-1]
    assert h.incident(1).mitigated_at == first, "the first mitigation stands"
    assert len(posts(h, room, "incident_mitigated")) == 1

    h.command("assign commander <@U1|alice>", channel=room)
    h.command("resolve", channel=room)
    assert "is resolved" in said(h, "mitigated", room)


def test_hh_mm_not_yet_reached_today_means_yesterday(configured_harness: Callable[..., Harness]) -> None:
    h, clock, room = _start(configured_harness)
    ahead = (clock.now() + timedelta(minutes=30)).astimezone(BERLIN)
    if ahead.date() != clock.now().astimezone(BERLIN).date():
        ahead = clock.now().astimezone(BERLIN)  # just before midnight: "now" is today's own minute
    h.command(f"edit impact-started {ahead:%H:%M}", channel=room)
    recorded = h.incident(1).impact_started_at
    assert recorded is not None and recorded <= clock.now()
    expected = datetime.combine(ahead.date(), ahead.time().replace(second=0, microsecond=0), tzinfo=BERLIN)
    if expected > clock.now():
        expected -= timedelta(days=1)
    assert recorded == expected


def _times(started: str, detected: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for block, action, text in (
        (BlockId.IMPACT_STARTED, ActionId.IMPACT_STARTED, started),
        (BlockId.DETECTED, ActionId.DETECTED, detected),
    ):
        values[block] = {action: {"type": "plain_text_input", "value": text}}
    return values


def test_declare_form_takes_both_times_and_refuses_bad_ones_inline(
    configured_harness: Callable[..., Harness],
) -> None:
    clock = FakeClock()
    h = configured_harness(IncidentConfig(timezone="Europe/Berlin"), clock)
    h.command("declare")
    (view_id,) = list(h.emu.views)
    blocks = {b["block_id"]: b for b in h.emu.views[view_id]["blocks"]}
    assert blocks["detected"]["optional"] and "Europe/Berlin" in str(blocks["detected"]["element"])
    future = (clock.now() + timedelta(hours=1)).isoformat()
    values = {**declare_values("Checkout down"), **_times("nonsense", future)}
    refused = h.emu.submit_view(h.url, view_id, values, user_id="U2").json()
    assert refused["response_action"] == "errors"
    assert "is not a time" in refused["errors"]["impact_started"]
    assert "is in the future" in refused["errors"]["detected"]
    h.settle()
    with h.bot.runtime.uow() as tx:
        assert tx.incidents.list_since() == [], "nothing declared"

    started = (clock.now() - timedelta(hours=1)).replace(microsecond=0)
    values = {**declare_values("Checkout down"), **_times(started.isoformat(), "")}
    assert h.emu.submit_view(h.url, view_id, values, user_id="U2").status == 200
    h.settle()
    incident = h.incident(1)
    assert incident.impact_started_at == started and incident.detected_at is None
    declared = h.timeline(1)[0]
    assert declared.kind == "declared" and declared.data["impact_started"] == started.isoformat()
