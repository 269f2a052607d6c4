"""`make dev` hands the stage's plans to its functions as a deployed stage's CDK context does."""

from __future__ import annotations

from localcloud.resources import local_settings, settings_environ
from tenancy.common.config import Settings
from tenancy.contracts.plans import Limit, Overrides, Source, effective_config, stage_plans
from tenancy.contracts.tiers import Tier


def test_the_plans_option_reaches_the_functions_environment() -> None:
    plans = '{"FREE": {"limits": {"users": 10}}}'
    environ = settings_environ(local_settings("tenancy", "local", "us-east-1", plans=plans))
    assert environ["PLANS"] == plans
    seen = Settings.from_environ(environ).plans
    config = effective_config(Tier.FREE, Overrides(), stage_plans(seen))
    assert (config.limit(Limit.USERS), config.limits[Limit.USERS].source) == (10, Source.STAGE)
