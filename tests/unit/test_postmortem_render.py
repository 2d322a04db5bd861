"""The draft is valid CommonMark whose shape no user text can change, and operators can bring their own."""

from __future__ import annotations

import html
import logging
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bot.render.postmortem import PostmortemRenderer
from commands.postmortem import PostmortemData, assemble
from commands.records import ActionItem, ChecklistItem, Incident, Page, RoleAssignment, TimelineEvent
from tests.postmortem_markdown import SECTIONS, split

START = datetime(2026, 3, 1, 13, 0, tzinfo=UTC)
CADENCE = {"sev1": timedelta(minutes=15), "sev2": timedelta(minutes=30)}
FRONT_MATTER_KEYS = [
    "id",
    "title",
    "severity",
    "severity_history",
    "status",
    "type",
    "services",
    "drill",
    "declared",
    "acknowledged",
    "mitigated",
    "resolved",
    "time_to_acknowledge",
    "time_to_mitigate",
    "time_to_resolve",
    "mitigated_to_resolved",
    "impact_started",
    "detected",
    "time_to_detect",
    "impact_duration",
    "updates",
    "updates_within_cadence",
    "participants",
    "targets",
    "pages",
    "postmortem_owner",
    "postmortem_status",
    "review_date",
]


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def incident(text: str = "Rolled back", title: str = "Checkout is timing out") -> PostmortemData:
    """A resolved incident in which `text` is every piece of user-written text."""
    inc = Incident(
        id=3,
        title=title,
        description=text,
        severity="sev1",
        status="resolved",
        private=False,
        declared_by="U1",
        declared_at=START,
        channel_id="C1",
        channel_name="inc-3-checkout",
        resolved_at=at(90),
        resolved_by="U1",
        resolution_summary=text,
        acknowledged_at=at(2),
        mitigated_at=at(60),
        impact_started_at=at(-10),
        detected_at=at(-3),
    )
    inc.roles = [
        RoleAssignment(
            id=1, role="commander", user_id="U1", assigned_by="U1", assigned_at=at(2), ended_at=None
        )
    ]

    def event(i: int, kind: str, minutes: float, body: str, **data: object) -> TimelineEvent:
        return TimelineEvent(
            id=i, kind=kind, actor="U2", text=body, occurred_at=at(minutes), data=data, permalink=None
        )

    events = [
        event(1, "declared", 0, f"Declared sev2: {title}", severity="sev2"),
        event(2, "role_assigned", 2, "Commander: <@U1>", role="commander", user="U1", previous=None),
        event(3, "note", 10, text),
        event(4, "update_posted", 20, text, status="identified", severity="sev2"),
        event(5, "severity_changed", 40, "Severity: sev2 → sev1", **{"from": "sev2", "to": "sev1"}),
        event(6, "escalated", 40, "Severity sev2 → sev1", **{"from": "sev2", "to": "sev1", "paged": ["U4"]}),
        event(
            7,
            "status_changed",
            60,
            "Status: identified → monitoring",
            **{"from": "identified", "to": "monitoring"},
        ),
        event(8, "update_posted", 61, text, status="monitoring", severity="sev1"),
        event(9, "resolved", 90, f"Resolved: {text}"),
    ]
    events.append(
        TimelineEvent(
            id=10,
            kind="pinned",
            actor="U3",
            text=text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),  # as Slack stores it
            occurred_at=at(25),
            permalink="https://example.slack.com/archives/C1/p1772370300000100",
            data={"pinned_by": "U1"},
        )
    )
    items = [
        ActionItem(id=1, text=text, owner="U4", created_by="U1", created_at=at(95)),
        ActionItem(
            id=2,
            text=text,
            owner="U2",
            created_by="U1",
            created_at=at(96),
            due_at=at(60 * 24 * 3),
            priority="p1",
            kind="prevent",
            done_at=at(60 * 24 * 2),
            done_by="U2",
        ),
    ]
    checklist = [
        ChecklistItem(id=2, incident_id=3, position=1, text=text, source="severity:sev1"),
        ChecklistItem(
            id=1, incident_id=3, position=0, text=text, source="type:default", done_by="U2", done_at=at(12)
        ),
    ]
    key = "incidentbot-inc-3-payments"
    pages = [
        Page(
            id=1, incident_id=3, policy="payments", dedup_key=key, target="U2", paged_at=at(1), paged_by="U1"
        ),
        Page(
            id=2,
            incident_id=3,
            policy="payments",
            dedup_key=key,
            target="pagerduty:payments",
            paged_at=at(1),
            paged_by="U1",
            acknowledged_at=at(2),
            acknowledged_by=text,  # the pager's display name: anything at all
            acknowledged_via="pagerduty",
        ),
    ]
    return assemble(inc, events, items, CADENCE.__getitem__, checklist, pages=pages)


def renderer(override: Path | None = None, zone: str = "Europe/Berlin") -> PostmortemRenderer:
    return PostmortemRenderer(zone=ZoneInfo(zone), override_dir=override)


def blocks(body: str) -> list[str]:
    return [t.type for t in MarkdownIt("commonmark").parse(body) if t.nesting != -1 and t.type != "inline"]


def test_draft_layout_times_and_cadence() -> None:
    text = renderer().render(incident())
    front, body = split(text)
    assert list(front) == FRONT_MATTER_KEYS
    assert front["declared"] == "2026-03-01T14:00:00+01:00", "front matter times are in the configured zone"
    assert front["time_to_acknowledge"] == 120 and front["time_to_resolve"] == 5400
    assert front["updates"] == 2 and front["updates_within_cadence"] == 1
    assert front["severity_history"] == [
        {"severity": "sev2", "since": "2026-03-01T14:00:00+01:00"},
        {"severity": "sev1", "since": "2026-03-01T14:40:00+01:00"},
    ]
    tokens = MarkdownIt("commonmark").parse(body)
    titles = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert titles == ["INC-3: Checkout is timing out", *SECTIONS]
    assert "- 2026-03-01 14:10:00 CET · @U2 · Rolled back" in body
    assert "late (due by 2026-03-01 14:55:00 CET)" in body, (
        "after the escalation to sev1 at 14:40 the next update was owed within 15 minutes"
    )
    assert "[message](https://example.slack.com/archives/C1/p1772370300000100)" in body
    assert "1 of 2 item(s) done.\n\n- [x] Rolled back · @U2 · 2026-03-01 14:12:00 CET\n" in body
    assert "- [ ] Rolled back · left undone\n" in body
    assert "- Rolled back · owner @U4 · open · added by @U1 on 2026-03-01 15:35:00 CET\n" in body
    assert (
        "- Rolled back · P1 · owner @U2 · due 2026-03-04 · done by @U2 on 2026-03-03 14:00:00 CET · added by"
        in body
    ), "priority, owner, due day (in the zone) and who finished it, when"
    assert text == renderer().render(incident()), "the same state renders the same bytes"


def test_pages_say_who_was_paged_by_which_policy_and_who_acknowledged() -> None:
    front, body = split(renderer().render(incident("Dana *Ops*")))
    assert front["pages"] == [
        {
            "target": "U2",
            "policy": "payments",
            "tier": 1,
            "round": 1,
            "paged_at": "2026-03-01T14:01:00+01:00",
            "paged_by": "U1",
            "acknowledged_at": None,
            "acknowledged_by": None,
            "acknowledged_via": None,
        },
        {
            "target": "pagerduty:payments",
            "policy": "payments",
            "tier": 1,
            "round": 1,
            "paged_at": "2026-03-01T14:01:00+01:00",
            "paged_by": "U1",
            "acknowledged_at": "2026-03-01T14:02:00+01:00",
            "acknowledged_by": "Dana *Ops*",
            "acknowledged_via": "pagerduty",
        },
    ]
    assert "- 2026-03-01 14:01:00 CET · paged @U2 · policy payments, tier 1, round 1 · by @U1\n" in body
    assert (
        "paged `pagerduty:payments` · policy payments, tier 1, round 1 · by @U1 · acknowledged "
        "2026-03-01 14:02:00 CET by Dana \\*Ops\\* (via pagerduty)"
    ) in body


USER_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("\n\r\t #`~-=*_<>&[]|!+.)(:0123456789\\\"'{}aZ\u00a0"),
        st.characters(blacklist_categories=("Cs", "Cc")),
    ),
    max_size=60,
)


def _has_words(text: str) -> bool:
    return any(line.strip() for line in text.splitlines())


SHIPPED = renderer()
REFERENCE = blocks(split(SHIPPED.render(incident("plain words", "plain title")))[1])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=USER_TEXT.filter(_has_words), title=USER_TEXT.filter(_has_words))
@example(text="# h\n```\n~~~\n---\n===\n> q\n<div>x</div>\n    code\n1) one", title="a\n---\nid: INC-9\n...")
@example(text="0", title="0\n\n")  # blank lines in a front-matter value survive the draft's tidy-up
def test_user_text_cannot_change_the_structure(text: str, title: str) -> None:
    markdown = SHIPPED.render(incident(text, title))
    front, body = split(markdown)
    assert list(front) == FRONT_MATTER_KEYS and front["id"] == "INC-3" and front["title"] == title
    assert blocks(body) == REFERENCE, "no heading, fence, list, quote, rule or HTML came from user text"
    rendered = MarkdownIt("commonmark").render(body)
    h1 = re.search(r"<h1>(.*)</h1>", rendered)
    assert h1 is not None and "<" not in h1.group(1), "the title is text, never markup"
    assert html.unescape(h1.group(1)).split() == f"INC-3: {title}".replace("\0", "\ufffd").split()


def test_multiline_text_stays_in_its_list_item() -> None:
    text = "first line\n# heading?\n```\n---\n1. one\n<div>\n\n- item"
    body = split(renderer().render(incident(text)))[1]
    rendered = MarkdownIt("commonmark").render(body)
    assert "<pre>" not in rendered and "<div>" not in rendered and "<hr" not in rendered
    assert (
        "first line<br />\n# heading?<br />\n```<br />\n---<br />\n1. one<br />\n&lt;div&gt;<br />\n- item"
        in (rendered)
    )


def test_operator_template_overrides_the_shipped_one(tmp_path: Path) -> None:
    (tmp_path / "postmortem.md.j2").write_text(
        "{{ front_matter }}\n# {{ pm.ref }} ({{ pm.updates | length }} updates)\n"
    )
    text = renderer(tmp_path).render(incident("a *b*"))
    assert text.endswith("\n# INC-3 (2 updates)\n")


@pytest.mark.parametrize(
    ("template", "line"),
    [
        ("# {{ pm.ref }}\n\n{% if pm.title %}\nno endif\n", 4),
        ("# {{ pm.ref }}\n\n{{ pm.no_such_field }}\n", 3),
        ("# {{ pm.ref }}\n{{ pm.title | no_such_filter }}\n", 2),
    ],
)
def test_broken_operator_template_is_named_and_the_shipped_one_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, template: str, line: int
) -> None:
    broken = tmp_path / "postmortem.md.j2"
    broken.write_text(template)
    with caplog.at_level(logging.ERROR, logger="bot.render.postmortem"):
        text = renderer(tmp_path).render(incident())
    assert text == renderer().render(incident()), "no postmortem is lost: the shipped template is used"
    (record,) = caplog.records
    assert str(broken) in record.getMessage() and f"line {line}" in record.getMessage()


def test_render_benchmark_runs_at_a_toy_size() -> None:
    from benchmarks.postmortem_render import measure

    (row,) = measure([20], repeats=1)
    assert row["events"] == 20 and row["render_seconds"] > 0 and row["join_seconds"] > 0
    assert row["ratio"] == row["render_seconds"] / row["join_seconds"] and row["target_ratio"] == 10.0


def test_known_names_replace_ids_and_cannot_inject_markdown() -> None:
    from dataclasses import replace

    pm = incident()
    names = {"U1": "alice", "U4": "dave *the* [admin](http://x)"}
    named = replace(pm, names=names, timeline=tuple(replace(e, names=names) for e in pm.timeline))
    _front, body = split(renderer().render(named))
    assert "Commander: @alice" in body, "a mention in the timeline text"
    assert "- Commander: @alice from" in body, "the roles section"
    assert "owner @dave \\*the\\* \\[admin\\](http://x)" in body, "a name is user text: escaped"
    assert "@U2" in body, "people without a known name keep their id"
    assert "@U1" not in body and "@U4" not in body


def test_detection_impact_and_grouped_action_items() -> None:
    front, body = split(renderer().render(incident()))
    assert (
        front["impact_started"] == "2026-03-01T13:50:00+01:00"
        and front["detected"] == "2026-03-01T13:57:00+01:00"
    )
    assert front["time_to_detect"] == 7 * 60 and front["impact_duration"] == 70 * 60, "to mitigation"
    assert "- Detected: 2026-03-01 13:57:00 CET, 7m after impact started\n" in body
    assert "- Impact lasted: 1h10m (impact started to mitigated)\n" in body
    assert "Detected 2026-03-01 13:57:00 CET, 7m after impact started (2026-03-01 13:50:00 CET)." in body
    groups = body.split("## Action items")[1].split("## Checklist")[0]
    assert (
        groups.index("**Prevent**") < groups.index("P1") < groups.index("**Other**")
        and "Mitigate" not in groups
    )
    assert (
        "- [message](https://example.slack.com/archives/C1/p1772370300000100) · @U3"
        in body.split("## Supporting material")[1]
    )
    # The impact table is a table where tables exist (GFM), and plain text in strict CommonMark.
    tokens = MarkdownIt("commonmark").enable("table").parse(body)
    cells = [t.content for t in tokens if t.type == "inline" and t.map and "Error budget" in t.content]
    assert cells == ["Error budget spent"]
    assert [t.type for t in tokens].count("table_open") == 1
    assert "| For how long | 1h10m |" in body


def test_without_detection_times_nothing_is_made_up() -> None:
    pm = replace(incident(), impact_started=None, detected=None, pins=())
    front, body = split(renderer().render(pm))
    assert front["time_to_detect"] is None and front["impact_duration"] is None
    assert "- Impact lasted: —" in body and "When it was detected is not recorded" in body
    assert "No links were pinned." in body
