"""`/incident action` and `/incident actions` parsing: options are read from the end only."""

from __future__ import annotations

from datetime import date

import pytest

from commands.due import DueSpec
from commands.errors import UsageError
from commands.parsing import (
    AddActionItem,
    ListActionItems,
    MarkActionDone,
    OpenActionForm,
    parse,
)

SEVERITIES = ["sev1", "sev2", "sev3"]


def action(text: str) -> object:
    return parse(text, severities=SEVERITIES)


def test_trailing_owner_due_and_priority_in_any_order() -> None:
    assert action("action Add a canary <@U4|dave> due 2026-12-04 p1") == AddActionItem(
        text="Add a canary", owner="U4", due=DueSpec(date=date(2026, 12, 4)), priority="p1"
    )
    assert action("action Add a canary P2 due in 3d <@U4|dave>") == AddActionItem(
        text="Add a canary", owner="U4", due=DueSpec(days=3), priority="p2"
    )
    assert action("action Rotate keys due in 2 weeks") == AddActionItem(
        text="Rotate keys", due=DueSpec(days=14)
    )
    assert action("action Rotate keys due Friday") == AddActionItem(
        text="Rotate keys", due=DueSpec(word="friday")
    )


def test_words_that_look_like_options_in_the_middle_stay_in_the_text() -> None:
    cmd = action("action Ask <@U2|bob> why p1 pages were due today at noon")
    assert cmd == AddActionItem(text="Ask @bob why p1 pages were due today at noon")
    assert action("action Upgrade the pool to p2.") == AddActionItem(text="Upgrade the pool to p2.")
    assert action("action Retry failed due to timeouts") == AddActionItem(text="Retry failed due to timeouts")


def test_a_due_date_that_is_not_one_is_refused_with_the_usage() -> None:
    for text in ("action Fix it due fridya", "action Fix it due in 3x", "action Fix it due 2026-02-30"):
        with pytest.raises(UsageError) as exc:
            action(text)
        assert "Usage:" in exc.value.message


def test_no_text_opens_the_form_and_done_marks_by_number() -> None:
    assert action("action") == OpenActionForm()
    assert action("action done 2") == MarkActionDone(number=2)
    assert action("action done #3") == MarkActionDone(number=3)
    assert action("action done the runbook") == AddActionItem(text="done the runbook")
    assert action("actions") == ListActionItems()
    with pytest.raises(UsageError):
        action("actions please")
    with pytest.raises(UsageError):
        action("action <@U4|dave> p1")  # options but no text
