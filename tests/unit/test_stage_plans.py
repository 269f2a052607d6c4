"""The stage's changes to the shipped plans: the CDK context `plans`, checked at synthesis, becomes
the functions' `PLANS` setting, which both planes read the same way."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from tenancy.contracts.plans import PLANS, Limit, Overrides, Source, effective_config, stage_plans
from tenancy.contracts.tiers import Tier
from tenancy_infra.stacks.tenancy_stack import stage_plans_setting


def test_no_context_is_no_change() -> None:
    assert stage_plans_setting(None) == ""
    assert stage_plans_setting("") == ""
    assert stage_plans("") == stage_plans("  ")


@pytest.mark.parametrize(
    "context", [{"PRO": {"limits": {"users": 250}}}, '{"PRO": {"limits": {"users": 250}}}']
)
def test_a_context_object_or_string_becomes_the_setting(context: object) -> None:
    setting = stage_plans_setting(context)
    assert json.loads(setting) == {"PRO": {"limits": {"users": 250}}}
    config = effective_config(Tier.PRO, Overrides(), stage_plans(setting))
    assert (config.limit(Limit.USERS), config.limits[Limit.USERS].source) == (250, Source.STAGE)
    assert config.limit(Limit.AGENTS) == PLANS[Tier.PRO].limits[Limit.AGENTS]


@pytest.mark.parametrize(
    "context",
    [
        {"GOLD": {"limits": {"users": 1}}},  # no such tier
        {"FREE": {"limits": {"seats": 1}}},  # no such limit
        {"FREE": {"limits": {"users": -1}}},
        {"FREE": {"flags": {"secrets": "on"}}},
        "{not json",
    ],
)
def test_a_bad_context_fails_the_synthesis(context: object) -> None:
    with pytest.raises((ValidationError, ValueError)):
        stage_plans_setting(context)


def test_a_malformed_setting_fails_loudly_at_first_use() -> None:
    with pytest.raises(ValueError, match="PLANS"):
        stage_plans('{"FREE": {"limits": {"users": "ten"}}}')
