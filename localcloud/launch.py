"""Start the local cloud as a user would (`python -m localcloud`), in a process of its own, and wait
until it answers. Shared by the end-to-end tests and the benchmark."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_cloud(api_port: int, aws_port: int, log: Any = subprocess.PIPE) -> subprocess.Popen[str]:
    """`python -m localcloud` as a user runs it. A long-lived cloud must log to a file: an unread
    pipe fills up and blocks the cloud's live log (and with it every request)."""
    # A user's shell: none of the calling process's AWS, Powertools or Tenancy settings.
    env = {
        k: v
        for k, v in os.environ.items()
        if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")
    }
    env["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"
    return subprocess.Popen(  # noqa: S603 (this interpreter, the local cloud's module)
        [sys.executable, "-m", "localcloud", "--port", str(api_port), "--aws-port", str(aws_port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_healthy(url: str, process: subprocess.Popen[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"local cloud exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/_localcloud/health", timeout=1):  # noqa: S310 (local URL)
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError("local cloud did not become healthy")
