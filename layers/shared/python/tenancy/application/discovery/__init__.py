"""SSM service discovery: beside each tenant's route (`/<app>/<stage>/tenants/<tenantId>/`, see
access/routing.py) the application plane keeps the tenant's `provisioning-status`,
`provisioning-error` (only while there is one), `tier` and `config` (the tenant's stored overrides,
JSON), and `state`: one JSON record of the control-table `version` and those values, from which the
others are kept. The `tenant_updates` function keeps them in step from TenantUpdated events.

Ordering. Delivery is at least once and unordered, and status changes come in bursts (PROVISIONING
then FAILED within milliseconds), so two versions of one tenant are often applied at once. SSM has
no conditional put; what it has is each parameter's history (every value ever put, in order, the
latest 100). So:

1. `state` is put only by a change newer than the one it holds (a redelivered or late older change
   writes nothing). Two changes may still both read the same `state` and both put theirs, the older
   one last: the history then holds both.
2. Every invocation then *settles*: the winner is the newest version in `state`'s history; `state`
   and the four parameters are brought to the winner's values (only those that differ are written),
   and the history is read again; if a newer winner appeared meanwhile, it settles again.

The last writer of any parameter settles after its writes and finds the final winner (the history
only grows, and a newer `state` written after its check would be followed by that writer's own
settling), so the parameters converge on the newest version with no lock. This relies on SSM reads
seeing completed writes. What remains: between two writers' settling a reader may see a mix of two
versions for a moment; an invocation that dies before settling leaves that to its retry (Lambda's
asynchronous retries), or to the tenant's next change, which carries the whole state again.

Offboarding removes the route (RouteStore.delete names its four parameters) and leaves these: a
tenant's discovery parameters outlive it, ending at `provisioning-status` DEPROVISIONED, as its
control-table item stays as a tombstone.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from tenancy.common.errors import TenancyError
from tenancy.common.keys import checked_id
from tenancy.common.names import (
    DISCOVERY_CONFIG,
    DISCOVERY_ERROR,
    DISCOVERY_PARAMETERS,
    DISCOVERY_STATE,
    DISCOVERY_STATUS,
    DISCOVERY_TIER,
    route_path,
)
from tenancy.common.observability import count, logger
from tenancy.contracts.events import TenantUpdatedDetail

# A standard SSM parameter holds at most 4 KB; a longer error is cut (the control table has it whole).
MAX_ERROR_BYTES = 2048
# Settling rounds before giving up (the invocation fails, and its retry settles again).
MAX_SETTLE_ROUNDS = 5


class DiscoveryState(BaseModel):
    """The `state` record: a version of the tenant and the values of its parameters then."""

    version: int
    status: str
    tier: str
    config: str
    error: str | None = None

    @classmethod
    def of(cls, detail: TenantUpdatedDetail) -> DiscoveryState:
        return cls(
            version=detail.version,
            status=detail.status,
            tier=str(detail.tier),
            config=json.dumps(detail.overrides, sort_keys=True, separators=(",", ":")),
            error=_cut(detail.error) if detail.error else None,
        )

    @classmethod
    def parse(cls, value: str | None) -> DiscoveryState | None:
        if value is None:
            return None
        try:
            return cls.model_validate_json(value)
        except ValidationError:  # not ours: any version replaces it
            return None

    def parameters(self) -> dict[str, str | None]:
        """The value of each parameter (None: no parameter), `state` aside."""
        return {
            DISCOVERY_STATUS: self.status,
            DISCOVERY_ERROR: self.error,
            DISCOVERY_TIER: self.tier,
            DISCOVERY_CONFIG: self.config,
        }

    def record(self) -> str:
        return self.model_dump_json(exclude_none=True)


@dataclass
class Applied:
    """What one TenantUpdated did: `stale` when `state` already held that version or a later one;
    `settled_version` the version the parameters hold now; the parameters written and deleted."""

    tenant_id: str
    version: int
    stale: bool = False
    settled_version: int | None = None
    written: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


class DiscoveryNotSettled(TenancyError):
    """Newer versions kept arriving while settling: the invocation fails, and its retry settles."""

    status_code = 409
    code = "DISCOVERY_NOT_SETTLED"


class TenantDiscovery:
    """A tenant's discovery parameters in SSM, by name (never the route's own parameters)."""

    def __init__(self, ssm: Any, app_name: str, stage: str) -> None:
        self._ssm = ssm
        self._app = app_name
        self._stage = stage

    def path(self, tenant_id: str) -> str:
        return route_path(self._app, self._stage, checked_id(tenant_id, "tenantId"))

    def read(self, tenant_id: str) -> dict[str, str]:
        """The discovery parameters the tenant has, by name (`provisioning-status`, ...)."""
        return self._read(self.path(tenant_id))

    def apply(self, detail: TenantUpdatedDetail) -> Applied:
        """Record `detail` unless `state` holds that version or a later one, then settle."""
        tenant_id = detail.tenant_id
        base = self.path(tenant_id)
        applied = Applied(tenant_id, detail.version)
        current = DiscoveryState.parse(self._read(base).get(DISCOVERY_STATE))
        if current is not None and current.version >= detail.version:
            applied.stale = True
            logger.info(
                "tenant update ignored: discovery already has this version or a later one",
                tenant_id=tenant_id,
                version=detail.version,
                stored_version=current.version,
            )
            count("StaleTenantUpdateIgnored", tenant_id)
        else:
            self._put(base + DISCOVERY_STATE, DiscoveryState.of(detail).record())
        self._settle(base, applied)
        logger.info(
            "tenant discovery settled",
            tenant_id=tenant_id,
            version=detail.version,
            settled_version=applied.settled_version,
            changed_fields=detail.changed_fields,
            written=applied.written,
            deleted=applied.deleted,
        )
        if applied.written or applied.deleted:
            count("TenantDiscoveryUpdated", tenant_id)
        return applied

    def _settle(self, base: str, applied: Applied) -> None:
        """Bring `state` and the parameters to the newest version `state` ever held."""
        winner = self._newest(base)
        for _ in range(MAX_SETTLE_ROUNDS):
            if winner is None:
                return
            stored = self._read(base)
            wanted = {DISCOVERY_STATE: winner.record(), **winner.parameters()}
            for name, value in wanted.items():
                current = stored.get(name)
                if name == DISCOVERY_STATE and DiscoveryState.parse(current) == winner:
                    continue  # the same record, perhaps serialised otherwise
                if value is None:
                    if current is not None:
                        self._delete(base + name)
                        applied.deleted.append(name)
                elif current != value:
                    self._put(base + name, value)
                    applied.written.append(name)
            latest = self._newest(base)
            if latest == winner:
                applied.settled_version = winner.version
                return
            winner = latest
        raise DiscoveryNotSettled(f"{base}: newer versions kept arriving while settling")

    def _read(self, base: str) -> dict[str, str]:
        answer = self._ssm.get_parameters(Names=[base + name for name in DISCOVERY_PARAMETERS])
        return {parameter["Name"][len(base) :]: parameter["Value"] for parameter in answer["Parameters"]}

    def _newest(self, base: str) -> DiscoveryState | None:
        """The newest version `state` has held (its history keeps the latest 100 values)."""
        newest: DiscoveryState | None = None
        paginator = self._ssm.get_paginator("get_parameter_history")
        try:
            for page in paginator.paginate(Name=base + DISCOVERY_STATE):
                for entry in page["Parameters"]:
                    state = DiscoveryState.parse(entry.get("Value"))
                    if state is not None and (newest is None or state.version > newest.version):
                        newest = state
        except self._ssm.exceptions.ParameterNotFound:
            return None
        return newest

    def _put(self, name: str, value: str) -> None:
        self._ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)

    def _delete(self, name: str) -> None:
        with contextlib.suppress(self._ssm.exceptions.ParameterNotFound):  # an earlier delivery's
            self._ssm.delete_parameter(Name=name)


def _cut(text: str) -> str:
    encoded = text.encode()
    if len(encoded) <= MAX_ERROR_BYTES:
        return text
    return encoded[: MAX_ERROR_BYTES - 3].decode(errors="ignore") + "..."
