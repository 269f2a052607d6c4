"""The child program of the card sandbox: runs ONE card's code, then exits.

Run by `runner.py` as `python -I -S -B child.py` with an empty environment, in a new session, in an
empty temporary directory, possibly ahead of its request (a spare, its imports done while it waits).
On stdin: one line `<timeoutMs> <memoryMb> <outputBytes>`, then the request (`ExecutionRequest` as
JSON) to the end; on stdout, one JSON result line:
`{"ok": true, "html": "..."}` or `{"ok": false, "error": {"code": "CARD_...", "message": "..."}}`.
Only the standard library: this file must not import tenancy (it runs before any path is set).

The order matters (the module docstring of `runner.py` says what each step stops):
1. import everything the card may use (`ALLOWED_MODULES`) and what this program needs, while files
   can still be opened (as root, the interpreter's files may be readable by root only);
2. as root (a local machine; Lambda runs as an unprivileged user): drop to a uid/gid of our own;
3. set the limits: file size 0, no new process, no core file; then (waiting for the first line) the
   request's: address space, CPU time, and a wall-clock alarm (default action: the process ends)
   in case the parent is gone;
4. read the request, build the card's globals (dates and datetimes back to `datetime` objects);
5. seal: close every fd above 2, `RLIMIT_NOFILE` 3 (no file, socket, pipe or module file can be
   opened any more), remove process, signal and file-mutating functions from `os`/`posix`, and give
   the card builtins whose `__import__` admits only the allowed modules and whose `open` refuses;
6. exec the code; require `html` to be a str of at most `outputBytes` UTF-8 bytes.
"""

from __future__ import annotations

# What a card may import (pre-imported: nothing can be read from disk once the card runs).
ALLOWED_MODULES = (
    "math",
    "statistics",
    "json",
    "datetime",
    "decimal",
    "collections",
    "itertools",
    "functools",
    "operator",
    "re",
    "string",
    "html",
    "textwrap",
)
# Imported lazily by the allowed modules' own code (e.g. `datetime.strptime` imports `_strptime`,
# `strftime` imports `time`): admitted by the import guard too, harmless.
INTERNAL_MODULES = ("time", "_strptime", "collections.abc", "json.decoder", "json.encoder", "json.scanner")

import builtins  # noqa: E402
import datetime  # noqa: E402
import html  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any, NoReturn  # noqa: E402

TIMEOUT = "CARD_TIMEOUT"
MEMORY = "CARD_MEMORY"
OUTPUT_TOO_LARGE = "CARD_OUTPUT_TOO_LARGE"
ERROR = "CARD_ERROR"

# Locally (as root) the card runs as a uid/gid no account uses, one per child (the base + its pid):
# no other process shares it, so the card can neither signal nor read any other process, and
# RLIMIT_NPROC (counted per uid) applies.
SANDBOX_ID_BASE = 200_000_000
MESSAGE_CHARS = 1000  # an error message is cut there

# Removed from `os` and `posix` before the card runs (the OS limits stop most of them anyway:
# RLIMIT_NPROC the forks, the uid the signals; these make the failure plain and early).
_PROCESS_FUNCTIONS = (
    "fork",
    "forkpty",
    "vfork",
    "register_at_fork",
    "kill",
    "killpg",
    "pidfd_open",
    "system",
    "popen",
    "posix_spawn",
    "posix_spawnp",
    "setsid",
    "setpgid",
    "setpgrp",
    "setuid",
    "seteuid",
    "setreuid",
    "setresuid",
    "setgid",
    "setegid",
    "setregid",
    "setresgid",
    "setgroups",
    "initgroups",
    "chroot",
    "chdir",
    "fchdir",
    "putenv",
    "unsetenv",
    "remove",
    "unlink",
    "rmdir",
    "removedirs",
    "rename",
    "renames",
    "replace",
    "mkdir",
    "makedirs",
    "mkfifo",
    "mknod",
    "symlink",
    "link",
    "chmod",
    "lchmod",
    "chown",
    "lchown",
    "truncate",
    "utime",
    "setxattr",
    "removexattr",
    "sched_setaffinity",
    "setpriority",
    "nice",
)
_PROCESS_PREFIXES = ("exec", "spawn", "wait")


def convert(values: list[Any], column_type: str) -> list[Any]:
    """A column's JSON values as the card sees them: ISO dates and datetimes back to objects."""
    parse: Callable[[str], Any]
    if column_type == "date":
        parse = datetime.date.fromisoformat
    elif column_type == "datetime":
        parse = datetime.datetime.fromisoformat
    else:
        return list(values)
    return [None if value is None else parse(value) for value in values]


def dataset_columns(dataset: dict[str, Any]) -> tuple[dict[str, str], dict[str, list[Any]]]:
    """({name: type}, {name: converted values}) of one request dataset, in the columns' order."""
    types = {column["name"]: column["type"] for column in dataset.get("columns", [])}
    raw = dataset.get("data", {})
    data = {name: convert(raw.get(name, []), column_type) for name, column_type in types.items()}
    for name, values in raw.items():  # a column the spec does not name: passed as it came
        if name not in data:
            data[name] = list(values)
    return types, data


def as_rows(data: dict[str, list[Any]]) -> list[dict[str, Any]]:
    names = list(data)
    # strict once, on the columns (equal lengths); a row's tuple has one value per name by construction
    return [dict(zip(names, values)) for values in zip(*data.values(), strict=True)]  # noqa: B905


def card_globals(request: dict[str, Any]) -> dict[str, Any]:
    """The card's globals (docs: the card code contract), without `__builtins__`."""
    columns: dict[str, str] = {}
    data: dict[str, list[Any]] = {}
    rows: list[dict[str, Any]] = []
    datasets: dict[str, list[dict[str, Any]]] = {}
    for index, dataset in enumerate(request.get("datasets", [])):
        types, values = dataset_columns(dataset)
        dataset_rows = as_rows(values)
        datasets[dataset["datasetId"]] = dataset_rows
        if index == 0:
            columns, data, rows = types, values, dataset_rows
    return {
        "__name__": "__card__",
        "rows": rows,
        "data": data,
        "datasets": datasets,
        "columns": columns,
        "params": dict(request.get("params", {})),
        "filters": list(request.get("filters", [])),
        "escape": html.escape,
    }


def last_line(error: BaseException) -> str:
    """The traceback's last line (`Type: message`), without the host's paths, cut to a length."""
    if isinstance(error, SyntaxError):
        text = f"{type(error).__name__}: {error}"
    else:
        try:
            text = traceback.format_exception_only(type(error), error)[-1].strip()
        except Exception:  # a message whose str() raises
            text = type(error).__name__
    for path in {os.path.dirname(os.path.abspath(__file__)), sys.prefix, sys.base_prefix, sys.exec_prefix}:
        if path and path != "/":
            text = text.replace(path, "…")
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 1] + "…"


class _Sink:
    """The card's `sys.stdout`/`sys.stderr`: prints go nowhere (the result is stdout's one line)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None


def _drop_privileges() -> None:
    if os.geteuid() != 0:
        return
    sandbox_id = SANDBOX_ID_BASE + os.getpid()
    os.setgroups([])
    os.setgid(sandbox_id)
    os.setuid(sandbox_id)


def _fixed_limits() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))


def _limit(timeout_ms: int, memory_mb: int) -> None:
    memory = memory_mb * 1024 * 1024
    cpu = math.ceil(timeout_ms / 1000) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # SIGXCPU, then SIGKILL
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # The process ends by itself (SIGALRM's default action) even if the parent is gone.
    signal.setitimer(signal.ITIMER_REAL, timeout_ms / 1000 + 2)


def _seal() -> None:
    sys.stdout = sys.__stdout__ = _Sink()  # type: ignore[misc,assignment]
    sys.stderr = sys.__stderr__ = _Sink()  # type: ignore[misc,assignment]
    os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    resource.setrlimit(resource.RLIMIT_NOFILE, (3, 3))
    posix = sys.modules.get("posix")
    for module in (os, posix):
        if module is None:
            continue
        for name in list(vars(module)):
            if name in _PROCESS_FUNCTIONS or name.startswith(_PROCESS_PREFIXES):
                delattr(module, name)


def card_builtins() -> dict[str, Any]:
    """The builtins a card runs with: `__import__` admits the allowed modules only, no `open`."""
    real_import = builtins.__import__
    admitted = frozenset(ALLOWED_MODULES) | frozenset(INTERNAL_MODULES)

    def guarded_import(
        name: str,
        globals: dict[str, Any] | None = None,
        locals: dict[str, Any] | None = None,
        fromlist: tuple[str, ...] | list[str] | None = (),
        level: int = 0,
    ) -> Any:
        if level == 0 and (name in admitted or name.partition(".")[0] in ALLOWED_MODULES):
            return real_import(name, globals, locals, fromlist, level)
        raise ImportError(f"No module named {name!r} in a card (allowed: {', '.join(ALLOWED_MODULES)})")

    def refused_open(*args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError("a card has no file access")

    names = dict(vars(builtins))
    names["__import__"] = guarded_import
    names["open"] = refused_open
    for name in ("breakpoint", "input", "help", "exit", "quit", "copyright", "credits", "license"):
        names.pop(name, None)
    return names


def _answer(result: dict[str, Any]) -> NoReturn:
    line = json.dumps(result, ensure_ascii=False).encode() + b"\n"
    view = memoryview(line)
    while view:
        view = view[os.write(1, view) :]
    os._exit(0)


def _failure(code: str, message: str) -> NoReturn:
    _answer({"ok": False, "error": {"code": code, "message": message}})


def main() -> NoReturn:
    for name in (*ALLOWED_MODULES, *INTERNAL_MODULES):
        __import__(name)
    _drop_privileges()
    _fixed_limits()
    # Started ahead of its request (a spare), it waits here: the first line is the limits.
    header = sys.stdin.buffer.readline(100).split()
    if len(header) != 3:  # the parent is gone, or discarded this spare
        os._exit(0)
    timeout_ms, memory_mb, output_bytes = (int(value) for value in header)
    _limit(timeout_ms, memory_mb)
    memory_error = f"the card used more than {memory_mb} MB of memory"
    try:
        request = json.loads(sys.stdin.buffer.read())
        code = compile(request.get("code", ""), "<card>", "exec")
        namespace = card_globals(request)
        namespace["__builtins__"] = card_builtins()
        del request
    except MemoryError:
        _failure(MEMORY, memory_error)
    except SyntaxError as error:
        _failure(ERROR, last_line(error))
    _seal()
    signal.setitimer(signal.ITIMER_REAL, timeout_ms / 1000)
    try:
        exec(code, namespace)  # noqa: S102 (the card: what this process exists for)
    except MemoryError:
        _failure(MEMORY, memory_error)
    except BaseException as error:  # SystemExit too: the card's own failure
        _failure(ERROR, last_line(error))
    signal.setitimer(signal.ITIMER_REAL, 0)
    if "html" not in namespace:
        _failure(ERROR, "the card set no `html`")
    text = namespace["html"]
    if not isinstance(text, str):
        _failure(ERROR, f"`html` must be a str, not {type(text).__name__}")
    too_large = f"the card's html is larger than {output_bytes} bytes"
    if len(text) > output_bytes:
        _failure(OUTPUT_TOO_LARGE, too_large)
    try:
        size = len(text.encode())
    except UnicodeEncodeError:
        _failure(ERROR, "`html` is not valid Unicode text (lone surrogates)")
    except MemoryError:
        _failure(MEMORY, memory_error)
    if size > output_bytes:
        _failure(OUTPUT_TOO_LARGE, too_large)
    _answer({"ok": True, "html": text})


if __name__ == "__main__":
    main()
