"""Plans: what each tier buys (limits and feature flags), and a tenant's effective configuration.

The defaults ship in the code (`PLANS`); a stage may override any value of any plan (the `PLANS`
setting, JSON, from the CDK context `plans`); a tenant may carry overrides of its own. The
effective value of each limit and flag is the most specific of the three, and says where it came
from (`plan`, `stage` or `tenant`). Both planes compute it with `effective_config`: the control
plane for its API, the authorizer for the context it hands the app API.
"""

from __future__ import annotations

import json
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from tenancy.common.fields import MAX_VERSION
from tenancy.contracts.tiers import Tier

MiB = 1024**2
GiB = 1024**3


class Limit(StrEnum):
    API_REQUESTS_PER_SECOND = "apiRequestsPerSecond"
    API_BURST = "apiBurst"
    API_REQUESTS_PER_DAY = "apiRequestsPerDay"
    USERS = "users"
    AGENTS = "agents"
    STORAGE_BYTES = "storageBytes"
    DATASETS = "datasets"
    # The largest CSV one dataset upload may be (the presigned POST's content-length-range).
    DATASET_UPLOAD_BYTES = "datasetUploadBytes"


class Flag(StrEnum):
    SECRETS = "secrets"  # the tenant may keep its own credentials (PUT /secrets/{name})
    USAGE_API = "usageApi"  # tenant admins may read their own usage (GET /usage)


class Source(StrEnum):
    PLAN = "plan"
    STAGE = "stage"
    TENANT = "tenant"


def _json_integer(value: object) -> object:
    if isinstance(value, str | bytes | bool):
        raise ValueError("must be a JSON integer, not a string or a boolean")
    return value


def _json_boolean(value: object) -> object:
    if not isinstance(value, bool):
        raise ValueError("must be a JSON boolean")
    return value


LimitValue = Annotated[int, Field(ge=0, le=MAX_VERSION), BeforeValidator(_json_integer)]
FlagValue = Annotated[bool, BeforeValidator(_json_boolean)]


class _Strict(BaseModel):
    """Unknown limit or flag names are refused (422 naming the field)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class LimitValues(_Strict):
    """Some or all limits (overrides); a limit left out is not overridden."""

    apiRequestsPerSecond: LimitValue | None = None
    apiBurst: LimitValue | None = None
    apiRequestsPerDay: LimitValue | None = None
    users: LimitValue | None = None
    agents: LimitValue | None = None
    storageBytes: LimitValue | None = None
    datasets: LimitValue | None = None
    datasetUploadBytes: LimitValue | None = None

    def given(self) -> dict[Limit, int]:
        return {Limit(name): value for name, value in self.model_dump(exclude_none=True).items()}


class FlagValues(_Strict):
    secrets: FlagValue | None = None
    usageApi: FlagValue | None = None

    def given(self) -> dict[Flag, bool]:
        return {Flag(name): value for name, value in self.model_dump(exclude_none=True).items()}


class Overrides(_Strict):
    """Values that replace the plan's for one tenant (or, in `PLANS`, for one stage)."""

    limits: LimitValues = Field(default_factory=LimitValues)
    flags: FlagValues = Field(default_factory=FlagValues)

    def is_empty(self) -> bool:
        return not self.limits.given() and not self.flags.given()

    def stored(self) -> dict[str, Any]:
        """The compact form kept on the tenant item and carried by events: only what is overridden
        (`{}` when nothing is)."""
        dumped = self.model_dump(mode="json", exclude_none=True)
        return {section: values for section, values in dumped.items() if values}

    @classmethod
    def from_stored(cls, value: Any) -> Overrides:
        return cls.model_validate(value or {})


class Plan(_Strict):
    limits: dict[Limit, int]
    flags: dict[Flag, bool]


PLANS: dict[Tier, Plan] = {
    Tier.FREE: Plan(
        limits={
            Limit.API_REQUESTS_PER_SECOND: 10,
            Limit.API_BURST: 20,
            Limit.API_REQUESTS_PER_DAY: 10_000,
            Limit.USERS: 5,
            Limit.AGENTS: 3,
            Limit.STORAGE_BYTES: 100 * MiB,
            Limit.DATASETS: 5,
            Limit.DATASET_UPLOAD_BYTES: 10 * MiB,
        },
        flags={Flag.SECRETS: False, Flag.USAGE_API: False},
    ),
    Tier.PRO: Plan(
        limits={
            Limit.API_REQUESTS_PER_SECOND: 50,
            Limit.API_BURST: 100,
            Limit.API_REQUESTS_PER_DAY: 500_000,
            Limit.USERS: 100,
            Limit.AGENTS: 50,
            Limit.STORAGE_BYTES: 10 * GiB,
            Limit.DATASETS: 100,
            Limit.DATASET_UPLOAD_BYTES: 1 * GiB,
        },
        flags={Flag.SECRETS: True, Flag.USAGE_API: True},
    ),
    Tier.ENTERPRISE: Plan(
        limits={
            Limit.API_REQUESTS_PER_SECOND: 200,
            Limit.API_BURST: 400,
            Limit.API_REQUESTS_PER_DAY: 5_000_000,
            Limit.USERS: 10_000,
            Limit.AGENTS: 1_000,
            Limit.STORAGE_BYTES: 1024 * GiB,
            Limit.DATASETS: 10_000,
            Limit.DATASET_UPLOAD_BYTES: 5 * GiB,
        },
        flags={Flag.SECRETS: True, Flag.USAGE_API: True},
    ),
}


class StagePlans(_Strict):
    """The `PLANS` setting: per tier, the values this stage changes."""

    FREE: Overrides = Field(default_factory=Overrides)
    PRO: Overrides = Field(default_factory=Overrides)
    ENTERPRISE: Overrides = Field(default_factory=Overrides)

    def of(self, tier: Tier) -> Overrides:
        overrides: Overrides = getattr(self, str(tier))
        return overrides


@lru_cache(maxsize=8)
def stage_plans(setting: str) -> StagePlans:
    """Parse the `PLANS` setting (empty: no stage changes). A malformed one fails loudly at first use."""
    if not setting.strip():
        return StagePlans()
    try:
        return StagePlans.model_validate(json.loads(setting))
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in error.errors()
        )
        raise ValueError(f"the PLANS setting is not a valid stage plan: {problems}") from None
    except ValueError as error:
        raise ValueError(f"the PLANS setting is not a valid stage plan: {error}") from None


class Sourced(BaseModel):
    value: int | bool
    source: Source


class EffectiveConfig(BaseModel):
    """A tenant's limits and flags as they apply, each with where it came from."""

    model_config = ConfigDict(frozen=True)

    tier: Tier
    limits: dict[Limit, Sourced]
    flags: dict[Flag, Sourced]
    version: int = 0  # the tenant's version this was computed from

    def limit(self, name: Limit) -> int:
        """The limit's value; the plan's for the tier when this config predates the limit (an
        authorizer context cached before it existed)."""
        if name not in self.limits:
            return PLANS[self.tier].limits[name]
        return int(self.limits[name].value)

    def flag(self, name: Flag) -> bool:
        return bool(self.flags[name].value)

    def compact(self) -> str:
        """The short JSON the authorizer hands the app API (`{"t":tier,"v":version,"l":{..},"f":{..}}`)."""
        return json.dumps(
            {
                "t": str(self.tier),
                "v": self.version,
                "l": {str(k): v.value for k, v in self.limits.items()},
                "f": {str(k): v.value for k, v in self.flags.items()},
                "s": {str(k): str(v.source) for k, v in [*self.limits.items(), *self.flags.items()]},
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_compact(cls, text: str) -> EffectiveConfig:
        raw = json.loads(text)
        sources = raw.get("s", {})
        return cls(
            tier=Tier(raw["t"]),
            version=int(raw.get("v", 0)),
            limits={
                Limit(k): Sourced(value=int(v), source=Source(sources.get(k, Source.PLAN)))
                for k, v in raw["l"].items()
            },
            flags={
                Flag(k): Sourced(value=bool(v), source=Source(sources.get(k, Source.PLAN)))
                for k, v in raw["f"].items()
            },
        )

    def view(self) -> dict[str, Any]:
        return {
            "tier": str(self.tier),
            "version": self.version,
            "limits": {str(k): v.model_dump(mode="json") for k, v in self.limits.items()},
            "flags": {str(k): v.model_dump(mode="json") for k, v in self.flags.items()},
        }


def effective_config(
    tier: Tier, overrides: Overrides, stage: StagePlans, version: int = 0
) -> EffectiveConfig:
    """Plan defaults, then the stage's changes, then the tenant's own overrides."""
    plan = PLANS[tier]
    stage_overrides = stage.of(tier)
    limits = {limit: Sourced(value=plan.limits[limit], source=Source.PLAN) for limit in Limit}
    flags = {flag: Sourced(value=plan.flags[flag], source=Source.PLAN) for flag in Flag}
    for layer, source in ((stage_overrides, Source.STAGE), (overrides, Source.TENANT)):
        for limit, value in layer.limits.given().items():
            limits[limit] = Sourced(value=value, source=source)
        for flag, enabled in layer.flags.given().items():
            flags[flag] = Sourced(value=enabled, source=source)
    return EffectiveConfig(tier=tier, limits=limits, flags=flags, version=version)
