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

    def invoke(self, name: str, event: Any, timeout_seconds: float = 900.0) -> Invocation:
        with self._lock:
            idle = self._idle.setdefault(name, [])
            module = idle.pop() if idle else None
        if module is None:
            module = self._load(name)
        context = LambdaContext(function_name=name, timeout_seconds=timeout_seconds)
        started = time.perf_counter()
        try:
            with self._scope(name, event):
                result, error = module.lambda_handler(event, context), None
        except Exception as exc:  # a function error, as Lambda reports it
            result, error = None, exc
        finally:
            with self._lock:
                self._idle[name].append(module)
        return Invocation(name, result, error, (time.perf_counter() - started) * 1000)
