"""Run Tenancy's handlers in-process, each from its own folder, as Lambda would."""

from __future__ import annotations

import importlib.util
import time
import uuid
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
    """Loads functions/<name>/handler.py once per name (a warm container) and invokes it."""

    def __init__(self, root: Path = ROOT) -> None:
        self._root = root
        self._modules: dict[str, ModuleType] = {}

    def module(self, name: str) -> ModuleType:
        if name not in self._modules:
            path = self._root / "functions" / name / "handler.py"
            spec = importlib.util.spec_from_file_location(f"tenancy_fn_{name}", path)
            if spec is None or spec.loader is None:
                raise FileNotFoundError(path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self._modules[name] = module
        return self._modules[name]

    def invoke(self, name: str, event: Any, timeout_seconds: float = 900.0) -> Invocation:
        handler = self.module(name).lambda_handler
        context = LambdaContext(function_name=name, timeout_seconds=timeout_seconds)
        started = time.perf_counter()
        try:
            result, error = handler(event, context), None
        except Exception as exc:  # a function error, as Lambda reports it
            result, error = None, exc
        return Invocation(name, result, error, (time.perf_counter() - started) * 1000)
