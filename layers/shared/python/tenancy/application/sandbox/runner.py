"""The parent side of the card sandbox: one child process per execution, with limits, then gone.

`execute(request)` runs `child.py` as `python -I -S -B child.py` (isolated mode: no environment
variables read, no user site, no `site` at all, no bytecode written) with an EMPTY environment, in
a new session (its own process group), with its cwd a fresh empty directory, sends the limits and
the request on stdin and reads one result line from stdout. Whatever happens, the whole process
group is killed and the child reaped before `execute` returns. Each child runs one card only; the
next one is started ahead (a spare, waiting for its request with its modules imported: a warm
execution skips the interpreter's start and the imports, ~100 ms).

What each barrier stops (the OS-level ones hold even if the card's code escapes Python's own
restrictions, e.g. by introspection — Python is not a sandbox on its own):

- Empty environment, and this process made non-dumpable (`prctl(PR_SET_DUMPABLE, 0)` at import):
  the card cannot read the function's credentials or settings, neither from its own environment nor
  from `/proc/<parent>/environ` (a non-dumpable process's /proc files belong to root).
- A uid/gid of its own (when the parent runs as root, i.e. locally; Lambda runs as an unprivileged
  user already): no file readable by root only, no signal to, or /proc of, any other process.
- `RLIMIT_NOFILE` 3 after closing every fd above 2: no file, directory, socket, pipe or module file
  can be opened any more — reading /etc/passwd or the repository, connecting to 127.0.0.1,
  `import boto3`/`ctypes`/`subprocess` all fail. The import guard (allowed modules only) and the
  refusing `open` make the common cases fail with a plain message first.
- `RLIMIT_FSIZE` 0: no byte written to a file (belt and braces: no file can be opened anyway).
- `RLIMIT_NPROC` 0: no fork, no thread (fork bombs, `multiprocessing`, `subprocess`); the process
  functions are also removed from `os`/`posix`. The new session lets the parent kill whatever is
  left with one `killpg`, and a /proc sweep kills any member of the session that changed group.
- `RLIMIT_AS` memoryMb: a memory bomb ends in MemoryError (or SIGSEGV/SIGKILL) -> `CARD_MEMORY`.
- Wall clock: the child's own alarm at timeoutMs (SIGALRM, default action: the process ends), and
  this side's deadline at timeoutMs + `STARTUP_GRACE_S` (the interpreter's start and the input's
  parsing) -> `CARD_TIMEOUT`; `RLIMIT_CPU` (timeout + 1 s) backs both up. A child whose parent died
  still ends at its alarm.
- Output: stdout is read up to a hard cap (outputBytes, JSON-escaped, + an envelope) and the child
  checks `html` against outputBytes (UTF-8) -> `CARD_OUTPUT_TOO_LARGE`; prints go nowhere.
- `RLIMIT_CORE` 0: no core file.

Not stopped, and why that is acceptable:
- The card can use its CPU and memory up to the limits, and read anything in its own process: only
  the request it was given (its own tenant's rows) is there.
- On Lambda (no root) the child shares the function's uid: a card that escapes Python's
  restrictions could signal the parent (killing its own invocation; one execution per environment,
  Lambda starts a fresh one) — it still cannot read the parent (non-dumpable) nor open anything.
- Syscalls that need neither an fd nor a new process (e.g. `stat` of a path) stay available; a
  seccomp filter would close them, at the cost of a native dependency. The deployed function itself
  has no AWS permissions, no secrets and no route to the internet (topology: `access=()`,
  `Network.ISOLATED`), so even a full escape holds nothing worth taking.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tenancy.application.sandbox.contract import ErrorCode, ExecutionError, ExecutionRequest, ExecutionResult

CHILD = Path(__file__).with_name("child.py")
# The interpreter's start and the input's parsing, before the card's own timeoutMs starts.
STARTUP_GRACE_S = 0.5
ENVELOPE_BYTES = 64 * 1024  # the result line's JSON around the html
STDERR_BYTES = 64 * 1024  # what is kept of the child's stderr (diagnosis only)
_CHUNK = 64 * 1024
_TIMEOUT_SIGNALS = {signal.SIGALRM, signal.SIGXCPU}
_MEMORY_SIGNALS = {signal.SIGKILL, signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT}
PR_SET_DUMPABLE = 4


def _make_non_dumpable() -> bool:
    """This process's /proc files (environ, mem, …) readable by root only, and no ptrace."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


NON_DUMPABLE = _make_non_dumpable()


def _failed(code: ErrorCode, message: str, started: float) -> ExecutionResult:
    return ExecutionResult(
        ok=False, error=ExecutionError(code=code, message=message), executionTimeMs=_elapsed_ms(started)
    )


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


class _Exchange:
    """stdin written, stdout and stderr read, all non-blocking, until the deadline or the cap."""

    def __init__(self, process: subprocess.Popen[bytes], payload: bytes, cap: int) -> None:
        self.process = process
        self.payload = memoryview(payload)
        self.cap = cap
        self.out = bytearray()
        self.err = bytearray()
        self.over_cap = False

    def run(self, deadline: float) -> bool:
        """True when the child closed its output (or passed the cap) before the deadline."""
        process = self.process
        assert process.stdin
        assert process.stdout
        assert process.stderr
        with selectors.DefaultSelector() as selector:
            for stream in (process.stdin, process.stdout, process.stderr):
                os.set_blocking(stream.fileno(), False)
            if self.payload:
                selector.register(process.stdin, selectors.EVENT_WRITE)
            else:
                process.stdin.close()
            selector.register(process.stdout, selectors.EVENT_READ)
            selector.register(process.stderr, selectors.EVENT_READ)
            while selector.get_map():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                for key, _ in selector.select(remaining):
                    if key.fileobj is process.stdin:
                        self._write(selector)
                    elif not self._read(selector, key.fileobj):
                        return True
        return True

    def _write(self, selector: selectors.BaseSelector) -> None:
        stdin = self.process.stdin
        assert stdin
        try:
            written = os.write(stdin.fileno(), self.payload[:_CHUNK])
        except BlockingIOError:
            return
        except BrokenPipeError:  # the child is gone: its exit status says why
            written = len(self.payload)
        self.payload = self.payload[written:]
        if not self.payload:
            selector.unregister(stdin)
            stdin.close()

    def _read(self, selector: selectors.BaseSelector, stream: Any) -> bool:
        """False when stdout passed the cap."""
        try:
            chunk = os.read(stream.fileno(), _CHUNK)
        except BlockingIOError:
            return True
        if not chunk:
            selector.unregister(stream)
            return True
        if stream is self.process.stdout:
            self.out += chunk
            if len(self.out) > self.cap:
                self.over_cap = True
                return False
        elif len(self.err) < STDERR_BYTES:
            self.err += chunk[: STDERR_BYTES - len(self.err)]
        return True


def _sweep_session(session_id: int) -> None:
    """SIGKILL every process still in the child's session (a member that changed its group)."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rpartition(b")")[2].split()
        except OSError:
            continue
        if len(fields) > 3 and int(fields[3]) == session_id:
            with contextlib.suppress(OSError):
                os.kill(int(entry.name), signal.SIGKILL)


def _end(process: subprocess.Popen[bytes]) -> None:
    """Kill the child's whole process group (and session), reap the child, close the pipes."""
    with contextlib.suppress(OSError):
        os.killpg(process.pid, signal.SIGKILL)
    if sys.platform.startswith("linux"):
        _sweep_session(process.pid)
    process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _outcome(
    exchange: _Exchange, returncode: int, request: ExecutionRequest, started: float
) -> ExecutionResult:
    limits = request.limits
    line = next((line for line in reversed(bytes(exchange.out).split(b"\n")) if line.strip()), b"")
    answer: dict[str, Any] | None = None
    with contextlib.suppress(ValueError):
        loaded = json.loads(line) if line else None
        answer = loaded if isinstance(loaded, dict) else None
    if answer is not None and answer.get("ok") is True and isinstance(answer.get("html"), str):
        html: str = answer["html"]
        if len(html.encode(errors="replace")) > limits.outputBytes:
            return _failed(
                ErrorCode.OUTPUT_TOO_LARGE,
                f"the card's html is larger than {limits.outputBytes} bytes",
                started,
            )
        return ExecutionResult(ok=True, html=html, executionTimeMs=_elapsed_ms(started))
    if answer is not None and answer.get("ok") is False:
        with contextlib.suppress(ValueError):
            error = ExecutionError.model_validate(answer.get("error"))
            return ExecutionResult(ok=False, error=error, executionTimeMs=_elapsed_ms(started))
    if returncode < 0:
        signum = -returncode
        if signum in _TIMEOUT_SIGNALS:
            return _failed(ErrorCode.TIMEOUT, f"the card ran longer than {limits.timeoutMs} ms", started)
        if signum in _MEMORY_SIGNALS:
            return _failed(
                ErrorCode.MEMORY, f"the card used more than {limits.memoryMb} MB of memory", started
            )
        return _failed(
            ErrorCode.ERROR, f"the card's process ended by signal {signal.Signals(signum).name}", started
        )
    if b"MemoryError" in exchange.err:
        return _failed(ErrorCode.MEMORY, f"the card used more than {limits.memoryMb} MB of memory", started)
    return _failed(
        ErrorCode.ERROR, f"the card's process ended without a result (exit status {returncode})", started
    )


class _Child:
    """One child process and its empty working directory (removed when the child is ended)."""

    def __init__(self) -> None:
        self.cwd = tempfile.TemporaryDirectory(prefix="card-")
        self.process = subprocess.Popen(  # noqa: S603 (our interpreter and our child program)
            [sys.executable, "-I", "-S", "-B", str(CHILD)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={},
            cwd=self.cwd.name,
            start_new_session=True,
            close_fds=True,
        )

    def end(self) -> None:
        _end(self.process)
        self.cwd.cleanup()


# One child started ahead (its interpreter started and its modules imported while it waits for a
# request, used by one execution only): a warm execution does not wait for the imports.
_spare: _Child | None = None
_spare_lock = threading.Lock()


def _take_child() -> _Child:
    global _spare
    with _spare_lock:
        child, _spare = _spare, None
    if child is not None and child.process.poll() is None:
        return child
    if child is not None:
        child.end()
    return _Child()


def _start_spare() -> None:
    global _spare
    started = _Child()
    with _spare_lock:
        previous, _spare = _spare, started
    if previous is not None:  # another execution started one meanwhile
        previous.end()


def discard_spare() -> None:
    """End the spare child (at exit, and for tests); the next execution starts its own."""
    global _spare
    with _spare_lock:
        child, _spare = _spare, None
    if child is not None:
        child.end()


atexit.register(discard_spare)


def execute(
    request: ExecutionRequest, *, on_spawn: Callable[[int], None] | None = None, spare: bool = True
) -> ExecutionResult:
    """Run one card; every failure of the card is a result (`ok: false`), never an exception.

    `on_spawn` is told the child's pid (= its process group and session id), for tests; with
    `spare`, a child is started for the next execution once this one is done.
    """
    started = time.monotonic()
    limits = request.limits
    header = f"{limits.timeoutMs} {limits.memoryMb} {limits.outputBytes}\n".encode()
    payload = header + request.model_dump_json().encode()
    cap = limits.outputBytes * 6 + ENVELOPE_BYTES  # the worst JSON escaping (\\u00XX) of the html
    child = _take_child()
    process = child.process
    returncode = 0
    try:
        if on_spawn is not None:
            on_spawn(process.pid)
        exchange = _Exchange(process, payload, cap)
        deadline = started + limits.timeoutMs / 1000 + STARTUP_GRACE_S
        finished = exchange.run(deadline)
        if finished and not exchange.over_cap:
            try:
                returncode = process.wait(timeout=max(deadline - time.monotonic(), 0.001))
            except subprocess.TimeoutExpired:
                finished = False
    finally:
        child.end()
    result = _result(exchange, finished, returncode, request, started)
    if spare:
        _start_spare()
    return result


def _result(
    exchange: _Exchange, finished: bool, returncode: int, request: ExecutionRequest, started: float
) -> ExecutionResult:
    limits = request.limits
    if exchange.over_cap:
        return _failed(
            ErrorCode.OUTPUT_TOO_LARGE, f"the card's html is larger than {limits.outputBytes} bytes", started
        )
    if not finished:
        return _failed(ErrorCode.TIMEOUT, f"the card ran longer than {limits.timeoutMs} ms", started)
    return _outcome(exchange, returncode, request, started)
