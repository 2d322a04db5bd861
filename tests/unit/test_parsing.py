"""The /incident grammar: what people type becomes a typed command or a specific, helpful error."""

from __future__ import annotations

import pytest

from commands.errors import UsageError
from commands.parsing import (
    Declare,
    Edit,
    Help,
    ListOpen,
    OpenDeclareForm,
    OpenEditForm,
    Reopen,
    Resolve,
    Status,
    help_text,
    parse,
)
from commands.text import channel_name, plain_text, slugify

SEVS = ["sev1", "sev2", "sev3", "sev4"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("declare sev2 checkout is timing out", Declare(title="checkout is timing out", severity="sev2")),
        ("declare --private sev1 db down", Declare(title="db down", severity="sev1", private=True)),
        ("declare sev1 --private db down", Declare(title="db down", severity="sev1", private=True)),
        ("DECLARE api 500s", Declare(title="api 500s")),
        ("declare", OpenDeclareForm()),
        ("status", Status()),
        ("list", ListOpen()),
        ("resolve", Resolve()),
        ("resolve rolled back the deploy", Resolve(summary="rolled back the deploy")),
        ("", Help()),
        ("help", Help()),
    ],
)
def test_parse_valid(text: str, expected: object) -> None:
    assert parse(text, severities=SEVS) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("declare sev2", "needs a title"),
        ("declare --loud fire", "Unknown option `--loud`"),
        ("status now", "takes no arguments"),
        ("list all", "takes no arguments"),
        ("frobnicate", "Unknown command `frobnicate`"),
        ("declare " + "x" * 201, "limit is 200"),
    ],
)
def test_parse_errors_name_the_problem_and_usage(text: str, fragment: str) -> None:
    with pytest.raises(UsageError) as err:
        parse(text, severities=SEVS)
    assert fragment in err.value.message
    assert "/incident" in err.value.message


def test_severity_word_later_in_title_is_title_text() -> None:
    assert parse("declare sev2 sev1 alerts are noisy", severities=SEVS) == Declare(
        title="sev1 alerts are noisy", severity="sev2"
    )


def test_plain_text_unwraps_slack_escaping() -> None:
    escaped = (
        "<!channel> &lt;b&gt; &amp; <@U123|alice> in <#C1|ops> <https://x.io|docs> <!subteam^S1|@oncall>"
    )
    assert plain_text(escaped) == "@channel <b> & @alice in #ops docs (https://x.io) @oncall"


def test_slug_and_channel_name_obey_slack_rules() -> None:
    assert slugify("Checkout is TIMING out!! (EU)") == "checkout-is-timing-out-eu"
    assert slugify("Ünïcödé ✨") == "unicode"
    assert slugify("✨✨") == "incident"
    name = channel_name("inc", 12345, "word " * 40)
    assert len(name) <= 80 and name.startswith("inc-12345-")
    suffixed = channel_name("inc", 12345, "word " * 40, attempt=2)
    assert len(suffixed) <= 80 and suffixed.endswith("-3")
    assert channel_name("inc", 7, "db down", attempt=1) == "inc-7-db-down-2"


TYPES = ["default", "security", "gameday"]
SERVICES = ["checkout", "api", "search"]


def triage(text: str) -> object:
    return parse(text, severities=SEVS, types=TYPES, services=SERVICES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "declare sev1 --type security --service checkout --service api Key leaked",
            Declare(
                title="Key leaked", severity="sev1", incident_type="security", services=("checkout", "api")
            ),
        ),
        (
            "declare --service=API --drill --private --type=Security sev2 Game day",
            Declare(
                title="Game day",
                severity="sev2",
                private=True,
                drill=True,
                incident_type="security",
                services=("api",),
            ),
        ),
        (
            "declare --service api --service api --service checkout slow",
            Declare(title="slow", services=("api", "checkout")),
        ),
        ("declare --drill practice the failover", Declare(title="practice the failover", drill=True)),
        ("declare practice --drill later", Declare(title="practice --drill later")),
    ],
)
def test_declare_options_in_any_order_before_the_title(text: str, expected: Declare) -> None:
    assert triage(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("declare --type hr Payroll leak", "Unknown type `hr`. Known types: default, security, gameday."),
        (
            "declare --service billing Broken",
            "Unknown service `billing`. Known services: checkout, api, search.",
        ),
        ("declare --type", "`--type` needs a name after it."),
        ("declare --service --drill x", "`--service` needs a name after it."),
        ("declare --type security --type gameday x", "Give one `--type`."),
        ("declare --drill=yes x", "Unknown option `--drill=yes`."),
        ("declare --type security", "needs a title"),
    ],
)
def test_declare_option_errors_name_the_known_choices(text: str, fragment: str) -> None:
    with pytest.raises(UsageError) as caught:
        triage(text)
    assert fragment in caught.value.message
    assert "--type TYPE" in caught.value.message  # the usage line follows


def test_declare_types_and_services_when_none_are_configured() -> None:
    with pytest.raises(UsageError) as caught:
        parse("declare --type security x", severities=SEVS)
    assert "Unknown type `security`: no types are configured." in caught.value.message
    with pytest.raises(UsageError) as caught:
        parse("declare --service api x", severities=SEVS)
    assert "no services are configured" in caught.value.message


def test_help_shows_the_declare_options() -> None:
    from commands.parsing import help_text

    assert "[--private] [--drill] [--type TYPE] [--service NAME]... <title>" in help_text()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("edit", OpenEditForm()),
        ("edit title Checkout 504s in <#C1|eu>", Edit(title="Checkout 504s in #eu")),
        ("EDIT Title   spaced   out", Edit(title="spaced out")),
        ("edit description Only &lt;EU&gt; shoppers", Edit(description="Only <EU> shoppers")),
        ("reopen", Reopen()),
        ("reopen Errors are back <@U1|alice>", Reopen(reason="Errors are back @alice")),
    ],
)
def test_parse_edit_and_reopen(text: str, expected: object) -> None:
    assert parse(text, severities=SEVS) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("edit title", "A title cannot be empty."),
        ("edit title " + "x" * 201, "The title is 201 characters long; the limit is 200."),
        ("edit description", "Give the new description"),
        ("edit description " + "x" * 3001, "limit is 3000"),
        (
            "edit severity sev1",
            "`severity` cannot be edited here: name `title`, `description`, `impact-started` or",
        ),
        ("reopen " + "x" * 2001, "limit is 2000"),
    ],
)
def test_parse_edit_and_reopen_errors(text: str, fragment: str) -> None:
    with pytest.raises(UsageError) as err:
        parse(text, severities=SEVS)
    assert fragment in err.value.message
    assert "/incident edit" in err.value.message or "/incident reopen" in err.value.message


def test_help_lists_edit_and_reopen() -> None:
    text = help_text()
    assert (
        "/incident edit [title <text> | description <text> | impact-started <time> | detected <time>]" in text
    )
    assert "/incident reopen [reason]" in text
