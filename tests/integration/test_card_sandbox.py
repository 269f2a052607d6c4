"""The hostile-card suite: each card ends in its error code, leaves no process behind, and the next
card (same runner; another tenant's request) runs normally.

Many cases run twice: through the Python-level guard (`import os`, `open`) and through an escape
from it (`ESCAPE`: the real `os`, `__import__` and freshly created builtin modules reached by
introspection), which shows the OS-level barrier underneath (fd limit, no new process, own uid).
"""

from __future__ import annotations

import ctypes
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localcloud.runtime import FunctionRuntime
from tenancy.application.sandbox import runner
from tenancy.application.sandbox.contract import ErrorCode, ExecutionRequest, ExecutionResult

ROOT = Path(__file__).resolve().parents[2]
CANARY = "canary-secret-0f9e8d7c6b5a"
SMALL = {"timeoutMs": 1000, "memoryMb": 128}
LARGE_MEMORY = {"timeoutMs": 1000, "memoryMb": 256}

# Card code prefix: Python's restrictions are not a sandbox; these reach past them.
ESCAPE = """\
import datetime
sys = datetime.sys
os = sys.modules["os"]
real_import = sys.modules["builtins"].__import__
def fresh(name):
    spec = sys.modules["_frozen_importlib"].ModuleSpec(name, None, origin="built-in")
    return sys.modules["_imp"].create_builtin(spec)
"""

TENANT_A = {
    "datasetId": "ds-a",
    "columns": [{"name": "region", "type": "string"}, {"name": "amount", "type": "int64"}],
    "data": {"region": ["north", "south", "north"], "amount": [5, 7, 11]},
    "rowCount": 3,
}
TENANT_B = {
    "datasetId": "ds-b",
    "columns": [{"name": "day", "type": "date"}, {"name": "amount", "type": "float64"}],
    "data": {"day": ["2024-02-29", "2024-03-01"], "amount": [1.5, 2.25]},
    "rowCount": 2,
}
NORMAL_CARD = (
    "total = sum(row['amount'] for row in rows)\n"
    "html = '<p>' + escape(f'{len(rows)} rows, total {total}') + '</p>'"
)


def run(code: str, limits: dict[str, int] | None = None, **fields: Any) -> tuple[ExecutionResult, int]:
    pids: list[int] = []
    request = ExecutionRequest.model_validate({"code": code, "limits": limits or SMALL, **fields})
    result = runner.execute(request, on_spawn=pids.append)
    assert len(pids) == 1
    return result, pids[0]


def session_members(session_id: int) -> list[int]:
    """The processes of the child's session still alive (or zombie), from /proc."""
    members = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                fields = Path(entry.path, "stat").read_bytes().rpartition(b")")[2].split()
            except OSError:
                continue
            if int(fields[3]) == session_id:
                members.append(int(entry.name))
    return members


def assert_next_cards_run() -> None:
    """The same runner runs a normal card of the same tenant, then another tenant's, afterwards."""
    result, pid = run(NORMAL_CARD, datasets=[TENANT_A])
    assert result.ok, result.error
    assert result.html == "<p>3 rows, total 23</p>"
    result, _ = run(
        "html = ', '.join(f\"{row['day'].isoformat()}={row['amount']}\" for row in rows)",
        datasets=[TENANT_B],
        params={"tenant": "b"},
    )
    assert result.ok, result.error
    assert result.html == "2024-02-29=1.5, 2024-03-01=2.25"
    assert session_members(pid) == []


@pytest.fixture(autouse=True)
def secrets_in_parent(monkeypatch: pytest.MonkeyPatch) -> None:
    """The parent holds secrets in its environment (as Lambda's runtime holds its credentials)."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CANARY)
    monkeypatch.setenv("TENANCY_CANARY", CANARY)


@pytest.fixture(autouse=True, scope="module")
def no_spare_left() -> Iterator[None]:
    yield
    runner.discard_spare()


# (id, code, limits, error code, a part of the message)
HOSTILE: list[tuple[str, str, dict[str, int], ErrorCode, str]] = [
    ("env-import-os", "import os\nhtml = str(os.environ)", SMALL, ErrorCode.ERROR, "No module named 'os'"),
    (
        "parent-environ-proc",
        ESCAPE
        + "fd = os.open(f'/proc/{os.getppid()}/environ', os.O_RDONLY)\nhtml = str(os.read(fd, 100000))",
        SMALL,
        ErrorCode.ERROR,
        "Too many open files",
    ),
    ("read-etc-passwd", "html = open('/etc/passwd').read()", SMALL, ErrorCode.ERROR, "no file access"),
    (
        "read-etc-passwd-escaped",
        ESCAPE + "html = str(os.read(os.open('/etc/passwd', os.O_RDONLY), 1000))",
        SMALL,
        ErrorCode.ERROR,
        "Too many open files",
    ),
    (
        "read-repository-file",
        ESCAPE + f"html = str(os.read(os.open({str(ROOT / 'pyproject.toml')!r}, os.O_RDONLY), 1000))",
        SMALL,
        ErrorCode.ERROR,
        "Too many open files",
    ),
    (
        "list-directory",
        ESCAPE + "html = str(os.listdir('/'))",
        SMALL,
        ErrorCode.ERROR,
        "Too many open files",
    ),
    ("write-file", "open('out.txt', 'w').write('x')", SMALL, ErrorCode.ERROR, "no file access"),
    (
        "write-file-escaped",
        ESCAPE + "os.write(os.open('/tmp/card-wrote-this', os.O_WRONLY | os.O_CREAT), b'x')",
        SMALL,
        ErrorCode.ERROR,
        "Too many open files",
    ),
    ("import-socket", "import socket", SMALL, ErrorCode.ERROR, "No module named 'socket'"),
    ("import-boto3", "import boto3", SMALL, ErrorCode.ERROR, "No module named 'boto3'"),
    ("import-boto3-escaped", ESCAPE + "real_import('boto3')", SMALL, ErrorCode.ERROR, "Too many open files"),
    ("import-ctypes", "import ctypes", SMALL, ErrorCode.ERROR, "No module named 'ctypes'"),
    (
        "import-ctypes-escaped",
        ESCAPE + "real_import('ctypes')",
        SMALL,
        ErrorCode.ERROR,
        "Too many open files",
    ),
    ("import-subprocess", "import subprocess", SMALL, ErrorCode.ERROR, "No module named 'subprocess'"),
    ("infinite-loop", "while True:\n    pass", SMALL, ErrorCode.TIMEOUT, "longer than 1000 ms"),
    ("cpu-bound", "html = str(sum(i * i for i in range(10**12)))", SMALL, ErrorCode.TIMEOUT, "1000 ms"),
    ("sleep", "import time\ntime.sleep(30)", SMALL, ErrorCode.TIMEOUT, "1000 ms"),
    (
        "ignores-its-alarm",
        ESCAPE
        + "signal = sys.modules['signal']\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass",
        SMALL,
        ErrorCode.TIMEOUT,
        "1000 ms",
    ),
    ("memory-bomb", "x = [0] * 10**9", SMALL, ErrorCode.MEMORY, "more than 128 MB"),
    (
        "memory-bomb-gradual",
        "chunks = []\nwhile True:\n    chunks.append(' ' * 10**6)",
        SMALL,
        ErrorCode.MEMORY,
        "more than 128 MB",
    ),
    (
        "output-100mb",
        "html = 'x' * (100 * 1024 * 1024)",
        LARGE_MEMORY,
        ErrorCode.OUTPUT_TOO_LARGE,
        "1048576 bytes",
    ),
    (
        "output-100mb-multibyte",
        "html = 'é' * (600 * 1024)",  # 600 Ki characters, 1.2 MiB of UTF-8
        SMALL,
        ErrorCode.OUTPUT_TOO_LARGE,
        "larger than",
    ),
    (
        "output-100mb-to-stdout",
        ESCAPE + "os.write(1, b'x' * (100 * 1024 * 1024))\nhtml = ''",
        LARGE_MEMORY,
        ErrorCode.OUTPUT_TOO_LARGE,
        "larger than",
    ),
    ("fork-import-os", "import os\nos.fork()", SMALL, ErrorCode.ERROR, "No module named 'os'"),
    ("fork-removed", ESCAPE + "os.fork()", SMALL, ErrorCode.ERROR, "has no attribute 'fork'"),
    (
        "fork-bomb",
        ESCAPE + "posix = fresh('posix')\nwhile True:\n    posix.fork()",
        SMALL,
        ErrorCode.ERROR,
        "Resource temporarily unavailable",
    ),
    (
        "multiprocessing",
        "import multiprocessing",
        SMALL,
        ErrorCode.ERROR,
        "No module named 'multiprocessing'",
    ),
    (
        "multiprocessing-escaped",
        ESCAPE + "real_import('multiprocessing').Process(target=print).start()",
        SMALL,
        ErrorCode.ERROR,
        "Too many open files",
    ),
    (
        "thread",
        ESCAPE + "fresh('_thread').start_new_thread(print, ())",
        SMALL,
        ErrorCode.ERROR,
        "can't start new thread",
    ),
    (
        "kill-parent",
        ESCAPE + "fresh('posix').kill(os.getppid(), 9)",
        SMALL,
        ErrorCode.ERROR,
        "Operation not permitted",
    ),
    ("kill-removed", ESCAPE + "os.kill(os.getppid(), 9)", SMALL, ErrorCode.ERROR, "has no attribute 'kill'"),
    (
        "exit-without-result",
        ESCAPE + "os._exit(3)",
        SMALL,
        ErrorCode.ERROR,
        "without a result (exit status 3)",
    ),
    ("no-html", "x = 1", SMALL, ErrorCode.ERROR, "set no `html`"),
    ("html-not-a-str", "html = 42", SMALL, ErrorCode.ERROR, "must be a str, not int"),
    ("html-the-module", "import html", SMALL, ErrorCode.ERROR, "must be a str, not module"),
    ("syntax-error", "html = (", SMALL, ErrorCode.ERROR, "SyntaxError:"),
    ("system-exit", "raise SystemExit(0)", SMALL, ErrorCode.ERROR, "SystemExit: 0"),
]


@pytest.mark.parametrize(
    ("code", "limits", "expected", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in HOSTILE],
)
def test_a_hostile_card_ends_in_its_error_and_the_next_cards_run(
    code: str, limits: dict[str, int], expected: ErrorCode, message: str
) -> None:
    started = time.monotonic()
    result, pid = run(code, limits, datasets=[TENANT_A])
    elapsed = time.monotonic() - started

    assert not result.ok
    assert result.html is None
    assert result.error is not None
    assert result.error.code == expected, result.error
    assert message in result.error.message
    assert "Traceback" not in result.error.message
    assert str(ROOT / "layers") not in result.error.message  # no host path of the sandbox
    assert CANARY not in result.error.message
    assert elapsed < 2.5, elapsed
    assert session_members(pid) == []  # the whole session is gone, forks included
    assert_next_cards_run()


def test_the_environment_is_empty_even_reached_past_the_guard() -> None:
    assert os.environ["AWS_SECRET_ACCESS_KEY"] == CANARY
    code = ESCAPE + "html = repr(dict(os.environ)) + repr(dict(sys.modules['posix'].environ))"

    result, _ = run(code)

    assert result.ok, result.error
    assert CANARY not in (result.html or "")
    # Only what the interpreter sets itself (locale coercion), nothing of the parent.
    assert "AWS" not in (result.html or "")
    assert result.html == "{'LC_CTYPE': 'C.UTF-8'}{b'LC_CTYPE': b'C.UTF-8'}"
    assert_next_cards_run()


def test_the_parent_is_not_dumpable() -> None:
    """Its /proc files (environ above all) are root's: another uid cannot read them."""
    libc = ctypes.CDLL(None, use_errno=True)
    pr_get_dumpable = 3
    assert runner.NON_DUMPABLE
    assert libc.prctl(pr_get_dumpable, 0, 0, 0, 0) == 0


def test_the_card_runs_as_its_own_user_with_its_limits() -> None:
    code = (
        ESCAPE
        + "resource = sys.modules['resource']\n"
        + "html = repr((os.getuid(), os.getgid(), os.getgroups(), os.getsid(0) == os.getpid(), "
        + "[resource.getrlimit(getattr(resource, n)) for n in "
        + "('RLIMIT_AS', 'RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_NPROC', 'RLIMIT_CORE', 'RLIMIT_NOFILE')], "
        + "os.getcwd()))"
    )

    result, pid = run(code)

    assert result.ok, result.error
    uid, gid, groups, leader, limits, cwd = eval(result.html or "")  # noqa: S307 (our own repr)
    if os.geteuid() == 0:
        assert uid == gid == 200_000_000 + pid
        assert groups == []
    assert leader  # a session (and process group) of its own
    assert limits == [
        (128 * 1024 * 1024,) * 2,
        (2, 3),
        (0, 0),
        (0, 0),
        (0, 0),
        (3, 3),
    ]
    assert Path(cwd).name.startswith("card-")
    assert not Path(cwd).exists()  # the temporary directory is gone afterwards


def test_no_connection_reaches_a_local_listener() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        code = (
            ESCAPE + f"s = real_import('socket').create_connection(('127.0.0.1', {port}))\nhtml = 'connected'"
        )

        result, _ = run(code)

        assert result.error is not None
        assert result.error.code == ErrorCode.ERROR
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert_next_cards_run()


def test_a_file_the_card_tried_to_write_does_not_exist() -> None:
    target = Path("/tmp/card-wrote-this")
    target.unlink(missing_ok=True)
    result, _ = run(ESCAPE + f"os.write(os.open({str(target)!r}, os.O_WRONLY | os.O_CREAT), b'x')\nhtml = ''")
    assert result.error is not None
    assert not target.exists()


def test_prints_and_a_flood_of_stderr_do_not_block_the_card() -> None:
    code = ESCAPE + "print('x' * 10**6)\nfor _ in range(20):\n    os.write(2, b'e' * 10**6)\nhtml = 'done'"
    result, _ = run(code)
    assert result.ok, result.error
    assert result.html == "done"


def test_an_exception_reports_the_tracebacks_last_line_only() -> None:
    code = "def inner(value):\n    raise ValueError(f'bad value {value}')\n\ninner(3)"
    result, _ = run(code)
    assert result.error is not None
    assert result.error.code == ErrorCode.ERROR
    assert result.error.message == "ValueError: bad value 3"


def test_a_syntax_error_names_its_line() -> None:
    result, _ = run("x = 1\nhtml = (")
    assert result.error is not None
    assert result.error.message.startswith("SyntaxError: ")
    assert "line 2" in result.error.message


def test_the_cards_globals_follow_the_contract() -> None:
    code = (
        "import json, statistics, decimal, collections, itertools, functools, operator, re, string, textwrap, math\n"
        "import datetime\n"
        "html = json.dumps({\n"
        "  'rows': [{k: (v.isoformat() if isinstance(v, (datetime.date, datetime.datetime)) else v)"
        " for k, v in r.items()} for r in rows],\n"
        "  'types': sorted({k: type(v).__name__ for r in rows for k, v in r.items() if v is not None}.items()),\n"
        "  'data': sorted(data), 'datasets': sorted(datasets), 'columns': columns,\n"
        "  'params': params, 'filters': filters, 'escaped': escape('<a&b>'),\n"
        "  'second': [r['region'] for r in datasets['ds-a']],\n"
        "})"
    )
    first = {
        "datasetId": "ds-1",
        "columns": [
            {"name": "day", "type": "date"},
            {"name": "at", "type": "datetime"},
            {"name": "n", "type": "int64"},
            {"name": "ok", "type": "bool"},
        ],
        "data": {
            "day": ["2024-01-31", None],
            "at": ["2024-01-31T10:20:30", "2024-02-01T00:00:00+00:00"],
            "n": [1, None],
            "ok": [True, False],
        },
        "rowCount": 2,
    }
    result, _ = run(
        code,
        datasets=[first, TENANT_A],
        params={"top": 3},
        filters=[{"column": "n", "op": "gt", "value": 0}],
    )
    assert result.ok, result.error
    import json

    answer = json.loads(result.html or "")
    assert answer["rows"] == [
        {"day": "2024-01-31", "at": "2024-01-31T10:20:30", "n": 1, "ok": True},
        {"day": None, "at": "2024-02-01T00:00:00+00:00", "n": None, "ok": False},
    ]
    assert answer["types"] == [["at", "datetime"], ["day", "date"], ["n", "int"], ["ok", "bool"]]
    assert answer["data"] == ["at", "day", "n", "ok"]
    assert answer["datasets"] == ["ds-1", "ds-a"]
    assert answer["columns"] == {"day": "date", "at": "datetime", "n": "int64", "ok": "bool"}
    assert answer["params"] == {"top": 3}
    assert answer["filters"] == [{"column": "n", "op": "gt", "value": 0}]
    assert answer["escaped"] == "&lt;a&amp;b&gt;"
    assert answer["second"] == ["north", "south", "north"]


def test_no_dataset_gives_empty_globals() -> None:
    result, _ = run("html = repr((rows, data, datasets, columns, params, filters))")
    assert result.ok, result.error
    assert result.html == "([], {}, {}, {}, {}, [])"


def test_output_at_the_limit_passes_one_byte_more_does_not() -> None:
    limits = {**SMALL, "outputBytes": 10}
    result, _ = run("html = 'é' * 5", limits)  # 10 bytes of UTF-8
    assert result.ok, result.error
    assert result.html == "é" * 5
    result, _ = run("html = 'é' * 5 + 'x'", limits)
    assert result.error is not None
    assert result.error.code == ErrorCode.OUTPUT_TOO_LARGE


def test_the_handler_takes_an_event_and_answers_a_result() -> None:
    runtime = FunctionRuntime(ROOT)
    event = {"code": NORMAL_CARD, "datasets": [TENANT_A], "limits": SMALL}

    invocation = runtime.invoke("card_executor", event)

    assert invocation.error is None
    assert invocation.result["ok"] is True
    assert invocation.result["html"] == "<p>3 rows, total 23</p>"
    assert invocation.result["error"] is None
    assert isinstance(invocation.result["executionTimeMs"], int)

    failing = runtime.invoke("card_executor", {"code": "while True: pass", "limits": {"timeoutMs": 200}})
    assert failing.error is None
    assert failing.result["ok"] is False
    assert failing.result["error"] == {"code": "CARD_TIMEOUT", "message": "the card ran longer than 200 ms"}

    # A malformed request is the caller's bug: an invocation error, not a card result.
    malformed = runtime.invoke("card_executor", {"code": "html = ''", "limits": {"timeoutMs": 60_000}})
    assert malformed.error is not None
    assert "timeoutMs" in str(malformed.error)


def test_the_spare_child_runs_one_card_only_and_is_ended_when_discarded() -> None:
    first, first_pid = run(NORMAL_CARD, datasets=[TENANT_A])
    second, second_pid = run(NORMAL_CARD, datasets=[TENANT_A])  # the spare started after the first
    assert first.ok
    assert second.ok
    assert first_pid != second_pid
    spare = runner._spare
    assert spare is not None
    spare_pid = spare.process.pid
    assert session_members(spare_pid) == [spare_pid]  # waiting for its request, alone

    runner.discard_spare()

    assert runner._spare is None
    assert session_members(spare_pid) == []
    assert not Path(spare.cwd.name).exists()
    result, pid = run(NORMAL_CARD, datasets=[TENANT_A])  # no spare: a child of its own
    assert result.html == "<p>3 rows, total 23</p>"
    assert pid != spare_pid
