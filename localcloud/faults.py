"""Fault injection for the local cloud (like a chaos API): make one AWS call fail for one tenant.

A rule names the function, a text the triggering event must contain (a slug or tenant id), the
AWS operation to fail, and how many times. While that function handles a matching event, the
operation raises the ClientError AWS would, so the function's own error handling is exercised.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError


@dataclass
class Fault:
    function: str
    match: str
    service: str
    operation: str
    times: int = 1
    code: str = "InternalFailure"
    message: str = "injected by the local cloud"

    @classmethod
    def parse(cls, payload: dict[str, Any]) -> Fault:
        required = {"function", "match", "service", "operation"}
        missing = sorted(required - payload.keys())
        if missing:
            raise ValueError(f"missing fields: {', '.join(missing)}")
        unknown = sorted(payload.keys() - {*required, "times", "code", "message"})
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(unknown)}")
        return cls(**payload)


class Faults:
    def __init__(self) -> None:
        self._rules: list[Fault] = []
        self._lock = threading.Lock()
        self._active = threading.local()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._rules.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [vars(rule).copy() for rule in self._rules]

    @contextmanager
    def scope(self, function: str, event: Any) -> Iterator[None]:
        """Arm the rules matching this invocation for the calls it makes on this thread."""
        text = json.dumps(event, default=str)
        with self._lock:
            armed = [r for r in self._rules if r.function == function and r.match in text]
        self._active.rules = armed
        try:
            yield
        finally:
            self._active.rules = []

    def before_call(self, model: Any, **_: Any) -> None:
        """botocore `before-call` hook: raise for an armed rule naming this operation."""
        service = model.service_model.service_name
        for rule in getattr(self._active, "rules", []):
            if rule.service == service and rule.operation == model.name:
                with self._lock:
                    if rule.times <= 0:
                        continue
                    rule.times -= 1
                    if rule.times == 0:
                        self._rules.remove(rule)
                raise ClientError({"Error": {"Code": rule.code, "Message": rule.message}}, model.name)
