"""Escalation policies in the config: what they accept, and errors that name the key."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from typing import Any

import pytest

from bot.ops.config import ConfigError, config_from_mapping, effective_config_text
from commands.ports import EscalationPolicy, PolicyTier

POLICY = {
    "repeat": 1,
    "tiers": [
        {"notify": ["U1", "W2", "S3", "pagerduty:payments", "opsgenie:db-1"], "ack_within": "5m"},
        {"notify": ["U4"], "ack_within": "1h"},
    ],
}


def test_a_policy_and_a_severity_that_pages_it() -> None:
    cfg = config_from_mapping(
        {
            "escalation_policies": {"payments": POLICY},
            "severities": {
                "sev1": {"update_every": "15m", "page": "payments"},
                "sev2": {"update_every": "1h"},
            },
            "page_ack_within": "2m",
        }
    )
    assert cfg.escalation_policy("payments") == EscalationPolicy(
        name="payments",
        tiers=(
            PolicyTier(("U1", "W2", "S3", "pagerduty:payments", "opsgenie:db-1"), timedelta(minutes=5)),
            PolicyTier(("U4",), timedelta(hours=1)),
        ),
        repeat=1,
    )
    assert (cfg.severity_page("sev1"), cfg.severity_page("sev2"), cfg.severity_page("gone")) == (
        "payments",
        None,
        None,
    )
    assert cfg.policy_names() == ["payments"] and cfg.page_ack_within == timedelta(minutes=2)
    assert config_from_mapping(tomllib.loads(effective_config_text(cfg))) == cfg, "printed config reloads"


def test_defaults_have_no_policies_and_a_five_minute_window() -> None:
    cfg = config_from_mapping({})
    assert cfg.policy_names() == [] and cfg.escalation_policy("x") is None
    assert cfg.page_ack_within == timedelta(minutes=5)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"severities": {"sev1": {"update_every": "15m", "page": "nope"}}},
            "severities.sev1.page: 'nope' is not an escalation policy (none are configured)",
        ),
        (
            {"escalation_policies": {"p": {"tiers": [{"notify": ["bob"], "ack_within": "5m"}]}}},
            "escalation_policies.p.tiers[0].notify: 'bob' is not a Slack user ID",
        ),
        (
            {"escalation_policies": {"p": {"tiers": [{"notify": ["pagerduty:Pay"], "ack_within": "5m"}]}}},
            "escalation_policies.p.tiers[0].notify: 'pagerduty:Pay' is not",
        ),
        (
            {"escalation_policies": {"p": {"tiers": [{"notify": [], "ack_within": "5m"}]}}},
            "escalation_policies.p.tiers[0].notify: must name at least one",
        ),
        ({"escalation_policies": {"p": {"tiers": []}}}, "escalation_policies.p.tiers:"),
        (
            {"escalation_policies": {"p": {"tiers": [{"notify": ["U1"], "ack_within": "5"}]}}},
            "escalation_policies.p.tiers[0].ack_within: '5' is not a duration",
        ),
        (
            {"escalation_policies": {"p": {"tiers": [{"notify": ["U1"], "ack_within": "5m"}], "repeat": -1}}},
            "escalation_policies.p.repeat:",
        ),
        (
            {"escalation_policies": {"p": {"tiers": [{"notify": ["U1"], "ack_witin": "5m"}]}}},
            "escalation_policies.p.tiers[0].ack_witin: unknown key (did you mean 'ack_within'?)",
        ),
        ({"escalation_policies": {"Bad Name": POLICY}}, "escalation_policies.Bad Name: bad name"),
        ({"page_ack_within": "0s"}, "page_ack_within:"),
    ],
)
def test_mistakes_name_their_key(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_mapping(data)
    assert message in str(caught.value)
