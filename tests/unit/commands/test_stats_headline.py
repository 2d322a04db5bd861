"""The stats headline says what each figure is made of, and what a period without incidents lacks."""

from __future__ import annotations

from datetime import UTC, datetime

from commands.insights import ActionItemCounts, Durations, Insights, Share
from commands.postmortem_owner import OverduePostmortem
from commands.stats import headline, overdue_lines

NOW = datetime(2026, 3, 16, tzinfo=UTC)


def insights(**changes: object) -> Insights:
    base: dict[str, object] = {
        "since": NOW,
        "until": NOW,
        "generated_at": NOW,
        "incidents": 0,
        "still_open": 0,
        "drills": 0,
        "duplicates": 0,
        "by_severity": {},
        "by_type": {},
        "by_service": {},
        "time_to_acknowledge": Durations(0, None, None, None),
        "time_to_mitigate": Durations(0, None, None, None),
        "time_to_resolve": Durations(0, None, None, None),
        "within_target": {"resolve_within": Share(0, 0)},
        "escalated": Share(0, 0),
        "update_adherence": Share(0, 0),
        "reopened": Share(0, 0),
        "action_items": ActionItemCounts(0, 0, 0),
    }
    base.update(changes)
    return Insights(**base)  # type: ignore[arg-type]


def test_an_empty_period_says_there_was_nothing_to_measure() -> None:
    text = headline(insights(), 7, severities=["sev1"])
    assert "• 0 incidents (0 still open) by severity: none" in text
    assert "• Time to resolve: none reached it" in text
    assert "• Within target: no targets were due" in text
    assert "• Escalated: nothing to measure · Reopened: nothing to measure" in text


def test_figures_show_their_counts_in_the_configured_severity_order() -> None:
    text = headline(
        insights(
            incidents=3,
            still_open=1,
            drills=1,
            by_severity={"sev3": 1, "sev1": 1, "old<sev>": 1},
            time_to_resolve=Durations(2, 5400, 93_600, 49_500.0),
            within_target={"resolve_within": Share(1, 2), "acknowledge_within": Share(0, 0)},
            escalated=Share(1, 3),
        ),
        30,
        severities=["sev1", "sev2", "sev3"],
    )
    assert "3 incidents (1 still open) by severity: sev1 1 · sev3 1 · old&lt;sev&gt; 1" in text
    assert "Not counted: 1 drill, 0 duplicates" in text
    assert "• Time to resolve: p50 1h 30m · p90 1d 2h (over 2)" in text
    assert "• Within target: resolved in time 50% (1 of 2)" in text, "targets nobody was due on are left out"
    assert "Escalated: 33% (1 of 3)" in text


def overdue(
    number: int, *, private: bool = False, title: str = "Checkout <!channel> down"
) -> OverduePostmortem:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    return OverduePostmortem(
        incident_id=number,
        ref=f"INC-{number}",
        title=title,
        owner="U2" if number % 2 else None,
        status="draft",
        resolved_at=at,
        review_date=None,
        channel_id=f"C{number}",
        private=private,
    )


def test_the_digest_lists_overdue_postmortems_escaped_and_private_ones_only_by_number() -> None:
    text = overdue_lines([overdue(1), overdue(2, private=True, title="Secret acquisition")])
    assert "*Postmortems overdue* (2)" in text
    assert "• INC-1 Checkout &lt;!channel&gt; down: draft, owner <@U2>" in text
    assert "• INC-2 (private): draft, no owner" in text
    assert "Secret" not in text and "<!channel>" not in text
    assert overdue_lines([]) == ""


def test_a_long_list_of_overdue_postmortems_ends_with_how_many_more() -> None:
    text = overdue_lines([overdue(n) for n in range(1, 14)])
    assert text.count("\n• INC-") == 10 and text.endswith("• …and 3 more")
