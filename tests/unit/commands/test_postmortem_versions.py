"""What a new postmortem version says changed, its file name, and the postmortem commands' grammar."""

from __future__ import annotations

from datetime import date

import pytest

from commands.due import DueSpec
from commands.errors import UsageError
from commands.parsing import Postmortem, SetPostmortem, parse
from commands.postmortem_versions import changes_between, versioned_filename

SEVERITIES = ["sev1", "sev2", "sev3"]


def shows(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "title": "Checkout down",
        "description": "",
        "summary": "Rolled back",
        "items": {"1": False},
        "kinds": {"declared": 1, "resolved": 1},
        "status": "draft",
        "owner": "U2",
        "review_date": None,
    }
    return {**base, **over}


@pytest.mark.parametrize(
    ("after", "said"),
    [
        (shows(items={"1": True, "2": False, "3": False}), "2 action items added, 1 done"),
        (shows(items={"1": True}), "1 action item done"),
        (shows(title="Checkout timed out"), "title edited"),
        (shows(kinds={"declared": 1, "resolved": 1, "note": 2}), "2 notes added"),
        (
            shows(kinds={"declared": 1, "resolved": 2, "reopened": 1, "postmortem_status": 1}),
            "reopened; resolved; status changed",
        ),
        (shows(), "details updated"),  # e.g. a name Slack told us since
    ],
)
def test_the_message_says_what_changed(after: dict[str, object], said: str) -> None:
    assert changes_between(shows(), after) == said


def test_later_versions_are_numbered_in_the_file_name() -> None:
    assert versioned_filename("inc-1-db-postmortem.md", 1) == "inc-1-db-postmortem.md"
    assert versioned_filename("inc-1-db-postmortem.md", 3) == "inc-1-db-postmortem-v3.md"


def test_postmortem_settings_parse_and_bad_ones_say_why() -> None:
    assert parse("postmortem", severities=SEVERITIES) == Postmortem()
    assert parse("postmortem owner <@U3|carol>", severities=SEVERITIES) == SetPostmortem(owner="U3")
    assert parse("postmortem status In-Review", severities=SEVERITIES) == SetPostmortem(status="in-review")
    assert parse("postmortem review 2027-01-15", severities=SEVERITIES) == SetPostmortem(
        review=DueSpec(date=date(2027, 1, 15))
    )
    assert parse("postmortem review in 3d", severities=SEVERITIES) == SetPostmortem(review=DueSpec(days=3))
    for text, said in (
        ("postmortem owner", "Name one person"),
        ("postmortem owner <@U3> <@U4>", "Name one person"),
        ("postmortem status done", "one of draft, in-review, published"),
        ("postmortem review someday", "Give the review day"),
        ("postmortem review 2027-02-30", "not a date on the calendar"),
    ):
        with pytest.raises(UsageError, match=said):
            parse(text, severities=SEVERITIES)
