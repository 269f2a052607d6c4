"""The local cloud's live log: one line per invocation, errors with their message."""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any, TextIO

from localcloud.runtime import Invocation

_lock = threading.Lock()


def tenant_of(event: Any, result: Any) -> str:
    """The tenant an invocation concerns, from its event or (for creation) its response."""
    if isinstance(event, dict):
        if isinstance(event.get("detail"), dict) and event["detail"].get("tenantId"):
            return str(event["detail"]["tenantId"])
        if (event.get("pathParameters") or {}).get("tenantId"):
            return str(event["pathParameters"]["tenantId"])
        records = event.get("Records") or []
        ids = {
            r.get("dynamodb", {}).get("NewImage", {}).get("tenantId", {}).get("S")
            for r in records
            if isinstance(r, dict)
        } - {None}
        if ids:
            return ",".join(sorted(ids)) if len(ids) < 4 else f"{len(ids)} tenants"
    if isinstance(result, dict) and result.get("body"):
        try:
            data = json.loads(result["body"]).get("data")
        except (ValueError, AttributeError):
            return "-"
        if isinstance(data, dict) and data.get("tenantId"):
            return str(data["tenantId"])
    return "-"


def outcome_of(invocation: Invocation) -> str:
    if invocation.error is not None:
        return f"ERROR {type(invocation.error).__name__}: {str(invocation.error).splitlines()[0][:200]}"
    result = invocation.result
    if isinstance(result, dict) and "statusCode" in result:
        return str(result["statusCode"])
    if isinstance(result, dict) and "batchItemFailures" in result:
        failures = len(result["batchItemFailures"])
        return f"{failures} record(s) failed" if failures else "OK"
    if isinstance(result, dict) and "ignored" in result:
        return f"IGNORED {result['ignored']}"
    if isinstance(result, dict) and result.get("detail", {}).get("status") == "FAILED":
        return f"FAILED {result['detail'].get('error', '')[:200]}"
    return "OK"


class LiveLog:
    def __init__(self, verbose: bool = False, stream: TextIO | None = None) -> None:
        self.verbose = verbose
        self.stream = stream or sys.__stdout__ or sys.stdout

    def line(self, text: str) -> None:
        with _lock:
            print(text, file=self.stream, flush=True)

    def __call__(self, invocation: Invocation, trigger: str, event: Any) -> None:
        stamp = time.strftime("%H:%M:%S") + f".{int(time.time() * 1000) % 1000:03d}"
        tenant = tenant_of(event, invocation.result)
        self.line(
            f"{stamp}  {invocation.function:<24} {trigger:<34} tenant={tenant:<36} "
            f"{invocation.duration_ms:7.1f}ms  {outcome_of(invocation)}"
        )
        if self.verbose:
            self.line("    event: " + json.dumps(event, default=str)[:4000])
