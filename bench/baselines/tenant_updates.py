"""TenantUpdated: the tenant's SSM discovery parameters, with the calls Tenancy's discovery makes for
a first change of a tenant: GetParameters (the stored state), PutParameter (`state`, when the
change is newer), GetParameterHistory (the newest state ever put), GetParameters, a PutParameter per
value that differs (`provisioning-status`, `tier`, `config`; `provisioning-error` when there is
one), GetParameterHistory again (nothing newer arrived meanwhile)."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

_ssm = boto3.client("ssm")
NAMES = ("provisioning-status", "provisioning-error", "tier", "config", "state")


def _read(base: str) -> dict[str, str]:
    found = _ssm.get_parameters(Names=[base + name for name in NAMES])["Parameters"]
    return {p["Name"][len(base) :]: p["Value"] for p in found}


def _newest(base: str) -> dict[str, Any] | None:
    newest: dict[str, Any] | None = None
    for page in _ssm.get_paginator("get_parameter_history").paginate(Name=base + "state"):
        for entry in page["Parameters"]:
            state = json.loads(entry["Value"])
            if newest is None or state["version"] > newest["version"]:
                newest = state
    return newest


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    detail = event["detail"]
    base = f"/{os.environ['APP_NAME']}/{os.environ['STAGE']}/tenants/{detail['tenantId']}/"
    record = {
        "version": detail["version"],
        "status": detail["status"],
        "tier": detail["tier"],
        "config": json.dumps(detail.get("overrides") or {}, sort_keys=True, separators=(",", ":")),
    }
    if detail.get("error"):
        record["error"] = detail["error"]
    stored = _read(base).get("state")
    if stored is None or json.loads(stored)["version"] < record["version"]:
        _ssm.put_parameter(Name=base + "state", Value=json.dumps(record), Type="String", Overwrite=True)
    winner = _newest(base) or record
    current = _read(base)
    wanted = {
        "provisioning-status": winner["status"],
        "provisioning-error": winner.get("error"),
        "tier": winner["tier"],
        "config": winner["config"],
    }
    written = []
    for name, value in wanted.items():
        if value is not None and current.get(name) != value:
            _ssm.put_parameter(Name=base + name, Value=value, Type="String", Overwrite=True)
            written.append(name)
    settled = _newest(base) == winner
    return {
        "tenantId": detail["tenantId"],
        "settledVersion": winner["version"] if settled else None,
        "written": written,
    }
