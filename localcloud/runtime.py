"""Run Tenancy's handlers in-process, each from its own folder, as Lambda would."""

from __future__ import annotations

import importlib.util
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class LambdaContext:
    """The parts of Lambda's context object the handlers and Powertools read."""

    function_name: str
    timeout_seconds: float = 900.0
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "local"
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return int(max(0.0, self.timeout_seconds - (time.monotonic() - self._started)) * 1000)


_invocation = threading.local()
_PER_INVOCATION = ("current_event", "lambda_context")


def isolate_concurrent_invocations() -> None:
    """Keep what Powertools' event handler holds per process, per thread.

    The REST resolver stores the event being resolved and its context on the `BaseRouter` class
    (`BaseRouter.current_event = ...`): right on Lambda, where an execution environment runs one
    invocation at a time, wrong here, where concurrent invocations are threads of one process. Two
    concurrent `POST /tenants` then read each other's body (one created the other's tenant, the
    other answered 409). A metaclass property redirects the class-level writes to thread-local
    storage, and a property in the class serves the reads.
    """
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

    if getattr(BaseRouter, "_tenancy_thread_local", False):
        return

    def slot(name: str) -> property:
        return property(
            lambda _self: getattr(_invocation, name, None),
            lambda _self, value: setattr(_invocation, name, value),
        )

    for name in _PER_INVOCATION:  # reads and writes through instances
        setattr(BaseRouter, name, slot(name))
    # ... and through the class itself: a data descriptor on its metaclass takes `BaseRouter.x = v`.
    meta = type("ThreadLocalRouterMeta", (type(BaseRouter),), {name: slot(name) for name in _PER_INVOCATION})
    BaseRouter.__class__ = meta  # type: ignore[method-assign]
    setattr(BaseRouter, "_tenancy_thread_local", True)  # noqa: B010 (mypy: not a declared attribute)


class InvocationCrashed(BaseException):
    """The execution environment died mid-invocation (a timeout, an out-of-memory kill): not an
    Exception, so handler code cannot catch it; Lambda reports a function error."""


@dataclass
class Invocation:
    function: str
    result: Any
    error: BaseException | None
    duration_ms: float


class FunctionRuntime:
    """Loads functions/<name>/handler.py as Lambda runs it: one warm instance per concurrent
    invocation (an instance serves one invocation at a time), reused afterwards."""

    def __init__(
        self, root: Path = ROOT, scope: Callable[[str, Any], AbstractContextManager[None]] | None = None
    ) -> None:
        isolate_concurrent_invocations()
        self._root = root
        self._scope = scope or (lambda _name, _event: nullcontext())
        self._idle: dict[str, list[ModuleType]] = {}
        self._lock = threading.Lock()
        self._loaded = 0

    def _load(self, name: str) -> ModuleType:
        path = self._root / "functions" / name / "handler.py"
        with self._lock:
            self._loaded += 1
            module_name = f"tenancy_fn_{name}_{self._loaded}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise FileNotFoundError(path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def module(self, name: str) -> ModuleType:
        """A warm instance of the function (loaded on first use)."""
        with self._lock:
            idle = self._idle.setdefault(name, [])
            if idle:
                return idle[-1]
        module = self._load(name)
        with self._lock:
            self._idle[name].append(module)
        return module

    def invoke(
        self, name: str, event: Any, timeout_seconds: float = 900.0, request_id: str | None = None
    ) -> Invocation:
        """Run one invocation; `request_id` is the context's aws_request_id (Lambda keeps one
        asynchronous event's request id across its retries; by default a new one)."""
        with self._lock:
            idle = self._idle.setdefault(name, [])
            module = idle.pop() if idle else None
        if module is None:
            module = self._load(name)
        context = LambdaContext(function_name=name, timeout_seconds=timeout_seconds)
        if request_id is not None:
            context.aws_request_id = request_id
        started = time.perf_counter()
        try:
            with self._scope(name, event):
                result, error = module.lambda_handler(event, context), None
        except (Exception, InvocationCrashed) as exc:  # a function error, as Lambda reports it
            result, error = None, exc
        finally:
            with self._lock:
                self._idle[name].append(module)
        return Invocation(name, result, error, (time.perf_counter() - started) * 1000)
