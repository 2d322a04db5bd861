"""`/incident page` parsing: policies by name, people and groups by mention, anything else refused."""

from __future__ import annotations

import pytest

from commands.errors import UsageError
from commands.parsing import PageTargets, help_text, parse

SEVERITIES = ("sev1", "sev2")


def test_policies_people_and_groups_in_any_order_each_once() -> None:
    cmd = parse("page payments <@U2|bob> <!subteam^S1|@db> DB payments <@U2>", severities=SEVERITIES)
    assert cmd == PageTargets(policies=("payments", "db"), users=("U2",), groups=("S1",))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("page", "Name an escalation policy, people or user groups to page."),
        ("page @bob", "`@bob` is not a policy name, a person or a user group."),
        ("page pay_ments", "`pay_ments` is not a policy name"),
    ],
)
def test_bad_input_names_the_problem_and_the_usage(text: str, problem: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(text, severities=SEVERITIES)
    assert problem in caught.value.message
    assert "/incident page <policy | @user | @group>..." in caught.value.message


def test_help_lists_page() -> None:
    assert "`/incident page <policy | @user | @group>...  (in a war room)`" in help_text()
