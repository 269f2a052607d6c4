"""Fault injection for the local cloud (a chaos API): POST a rule to /_localcloud/faults.

A rule names the function whose invocations it affects (`function`; `"*"` for any), a text the
triggering event must contain (`match`: a slug or tenant id; `""` for every event) and a `kind`.

Call faults act on one AWS call the function makes (`service` and `operation` as botocore names
them, e.g. `s3` / `PutObject`):

- `error` (the default): the call fails with the ClientError `code` before it reaches AWS, so
  nothing happened; the function's own error handling runs.
- `error-after`: the call happens, then the caller gets `code` anyway (a lost response): the
  effect is there although the function believes it failed.
- `crash`: the invocation dies just before the call, as on a timeout or an out-of-memory kill;
  handler code cannot catch it (it is not an Exception). Lambda's retry redelivers the event.
- `crash-after`: the call happens, then the invocation dies: the effect is there, the rest of the
  work (and the result event) is not, until the redelivery.
- `partial` (`events` / `PutEvents` only): EventBridge answers 200 with `FailedEntryCount` > 0, as it
  does under throttling: the batch's first entry and every second one after it (0, 2, 4, …) get
  `ErrorCode` = `code` and are not put on the bus; the others are. A one-entry batch is wholly
  rejected. The publisher must resend the failed entries.

Delivery faults act on how the local triggers deliver an event to the function (no `service` or
`operation`); `delay` is in seconds (0 to 900, as SQS DelaySeconds):

- `duplicate`: the event (an EventBridge event, or one stream record) is delivered as usual and once
  more `delay` seconds later, after whatever arrived meanwhile: at-least-once delivery.
- `reorder`: the event is held back and delivered `delay` seconds later, after the events behind
  it. (DynamoDB Streams never reorder one item's records, so on the stream this is harsher than AWS.)

How often a rule fires: `times` (default 1; `null` fires until the rules are cleared), `every`
(fire on every Nth matching call or delivery, default 1) and `probability` (0 to 1, default 1) drawn
from a generator seeded with `seed` (default 0), so a run repeats. A matching call or delivery is
one the rule could fire on: the function and text match and, for call faults, the operation; an
`*-after` rule counts only calls that succeeded.

GET lists the rules still armed (each with `seen` and `fired` so far) and `injected`, the faults
fired since the cloud started, by kind. DELETE removes every rule.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import ClientError

from localcloud.pumps import ON_TIME, Delivery
from localcloud.runtime import InvocationCrashed

BEFORE_CALL = ("error", "crash")
AFTER_CALL = ("error-after", "crash-after")
CALL_KINDS = (*BEFORE_CALL, *AFTER_CALL, "partial")
DELIVERY_KINDS = ("duplicate", "reorder")
KINDS = (*CALL_KINDS, *DELIVERY_KINDS)
MAX_DELAY_SECONDS = 900
_REJECTED = "localcloud.rejected"  # request-context keys of a PutEvents with rejected entries
_ALL_REJECTED = "localcloud.all_rejected"


@dataclass
class Fault:
    function: str
    match: str = ""
    kind: str = "error"
    service: str | None = None
    operation: str | None = None
    times: int | None = 1
    every: int = 1
    probability: float = 1.0
    seed: int = 0
    delay: int = 1
    code: str = "InternalFailure"
    message: str = "injected by the local cloud"
    seen: int = field(default=0, init=False)
    fired: int = field(default=0, init=False)
    _random: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)  # noqa: S311 (a repeatable schedule, not a secret)

    @classmethod
    def parse(cls, payload: Any) -> Fault:
        if not isinstance(payload, dict):
            raise ValueError("a fault is a JSON object")
        fields: dict[str, type | tuple[type, ...]] = {
            "function": str,
            "match": str,
            "kind": str,
            "service": str,
            "operation": str,
            "times": int,
            "every": int,
            "probability": (int, float),
            "seed": int,
            "delay": int,
            "code": str,
            "message": str,
        }
        unknown = sorted(payload.keys() - fields.keys())
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(unknown)}")
        for name, kind in fields.items():
            value = payload.get(name)
            if value is None and name in ("service", "operation", "times"):
                continue
            if name in payload and (not isinstance(value, kind) or isinstance(value, bool)):
                raise ValueError(f"{name} has the wrong type")
        if "function" not in payload:
            raise ValueError("missing fields: function")
        fault = cls(**payload)
        missing: list[str] = []
        if fault.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        if fault.kind in CALL_KINDS:
            missing += [name for name in ("service", "operation") if not payload.get(name)]
        elif fault.service is not None or fault.operation is not None:
            raise ValueError(f"a {fault.kind} fault acts on deliveries: no service or operation")
        if missing:
            raise ValueError(f"missing fields: {', '.join(missing)}")
        if fault.kind == "partial" and (fault.service, fault.operation) != ("events", "PutEvents"):
            raise ValueError("a partial fault is for events PutEvents")
        if fault.times is not None and fault.times < 1:
            raise ValueError("times must be at least 1 (or null: until cleared)")
        if fault.every < 1:
            raise ValueError("every must be at least 1")
        if not 0 < fault.probability <= 1:
            raise ValueError("probability must be in (0, 1]")
        if not 0 <= fault.delay <= MAX_DELAY_SECONDS:
            raise ValueError(f"delay must be 0 to {MAX_DELAY_SECONDS} seconds")
        return fault

    def describe(self) -> dict[str, Any]:
        return {name: value for name, value in vars(self).items() if not name.startswith("_")}

    def applies_to(self, function: str, text: str) -> bool:
        return self.function in ("*", function) and self.match in text

    def names(self, model: Any) -> bool:
        return (self.service, self.operation) == (model.service_model.service_name, model.name)


class Faults:
    def __init__(self, on_inject: Callable[[str], None] | None = None) -> None:
        self._rules: list[Fault] = []
        self._lock = threading.Lock()
        self._active = threading.local()
        self._injected: Counter[str] = Counter()
        self._on_inject = on_inject or (lambda _line: None)

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._rules.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.describe() for rule in self._rules]

    def injected(self) -> dict[str, int]:
        with self._lock:
            return {"total": sum(self._injected.values()), **dict(sorted(self._injected.items()))}

    def _fires(self, rule: Fault, what: str) -> bool:
        """Count one matching call or delivery; True when the rule fires on it."""
        with self._lock:
            if rule not in self._rules:  # used up meanwhile
                return False
            rule.seen += 1
            if rule.seen % rule.every:
                return False
            if rule.probability < 1 and rule._random.random() >= rule.probability:
                return False
            rule.fired += 1
            if rule.times is not None:
                rule.times -= 1
                if rule.times == 0:
                    self._rules.remove(rule)
            self._injected[rule.kind] += 1
        self._on_inject(f"fault {rule.kind:<11} {rule.function:<24} {what}")
        return True

    # --- call faults (botocore event hooks on the functions' clients) ------------------------------

    def register(self, client: Any) -> None:
        """Hook a client's calls: every call fault acts through these three events."""
        client.meta.events.register("before-parameter-build", self.before_parameters)
        client.meta.events.register("before-call", self.before_call)
        client.meta.events.register("after-call", self.after_call)

    @contextmanager
    def scope(self, function: str, event: Any) -> Iterator[None]:
        """Arm the call faults matching this invocation for the calls it makes on this thread."""
        text = json.dumps(event, default=str)
        with self._lock:
            armed = [r for r in self._rules if r.kind in CALL_KINDS and r.applies_to(function, text)]
        self._active.rules = armed
        self._active.function = function
        try:
            yield
        finally:
            self._active.rules = []

    def _armed(self, model: Any, kinds: tuple[str, ...]) -> Iterator[Fault]:
        for rule in getattr(self._active, "rules", []):
            if rule.kind in kinds and rule.names(model):
                yield rule

    def _what(self, model: Any) -> str:
        return f"{model.service_model.service_name}.{model.name}"

    def before_parameters(
        self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        """`before-parameter-build`: a firing `partial` rule takes the rejected entries out of the
        PutEvents request (the after-call hook puts them back in the response, as failures)."""
        for rule in self._armed(model, ("partial",)):
            if not self._fires(rule, self._what(model)):
                continue
            entries = list(params.get("Entries", []))
            if not entries:
                return
            context[_REJECTED] = (rule, len(entries))
            kept = entries[1::2]
            if kept:
                params["Entries"] = kept
            else:
                context[_ALL_REJECTED] = True
            return

    def before_call(self, model: Any, context: dict[str, Any] | None = None, **_: Any) -> Any:
        """`before-call`: `error` and `crash` rules; a wholly rejected PutEvents never leaves."""
        if context and context.get(_ALL_REJECTED):
            return AWSResponse("", 200, HTTPHeaders(), None), {"FailedEntryCount": 0, "Entries": []}
        for rule in self._armed(model, BEFORE_CALL):
            if self._fires(rule, self._what(model)):
                self._inject(rule, model, "before")
        return None

    def after_call(
        self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        """`after-call`: the rejected PutEvents entries back in the response; the `*-after` rules."""
        if http_response.status_code >= 300:
            return
        if _REJECTED in context:
            rule, count = context[_REJECTED]
            sent = iter(parsed.get("Entries", []))
            rejected = {"ErrorCode": rule.code, "ErrorMessage": rule.message}
            parsed["Entries"] = [dict(rejected) if i % 2 == 0 else next(sent) for i in range(count)]
            parsed["FailedEntryCount"] = int(parsed.get("FailedEntryCount", 0)) + (count + 1) // 2
        for rule in self._armed(model, AFTER_CALL):
            if self._fires(rule, self._what(model)):
                self._inject(rule, model, "after")

    def _inject(self, rule: Fault, model: Any, when: str) -> None:
        if rule.kind.startswith("crash"):
            function = getattr(self._active, "function", rule.function)
            raise InvocationCrashed(
                f"{function} died {when} {self._what(model)} ({rule.kind} injected by the local cloud)"
            )
        raise ClientError({"Error": {"Code": rule.code, "Message": rule.message}}, model.name)

    # --- delivery faults (the local triggers ask before delivering) ---------------------------------

    def delivery(self, function: str, event: Any) -> Delivery:
        """How the trigger delivers this event to `function`: on time, held back, and/or twice."""
        text = json.dumps(event, default=str)
        with self._lock:
            rules = [r for r in self._rules if r.kind in DELIVERY_KINDS and r.applies_to(function, text)]
        hold: int | None = None
        duplicate: int | None = None
        what = str(event.get("detail-type") or event.get("eventName") or "event")
        for rule in rules:
            if rule.kind == "reorder" and hold is None and self._fires(rule, what):
                hold = rule.delay
            elif rule.kind == "duplicate" and duplicate is None and self._fires(rule, what):
                duplicate = rule.delay
        if hold is None and duplicate is None:
            return ON_TIME
        return Delivery(hold_seconds=hold, duplicate_seconds=duplicate)
