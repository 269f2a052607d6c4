"""The AWS-compatible endpoint of the local cloud: moto's server with Tenancy's fixes, in a process
of its own.

The functions, the pumps and the API Gateway emulation run in the local cloud's process; the AWS
side runs here, so the two use both cores instead of taking turns on one interpreter lock (every
AWS call a function makes is parsed, executed and answered by moto). The server exits when the
process that started it is gone, so an interrupted `make dev` leaves nothing behind.

    python -m localcloud.awsserver --host 127.0.0.1 --port 4566
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READY = "ready"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="localcloud.awsserver", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    parent = os.getppid()

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.server import ThreadedMotoServer

    from localcloud import moto_fixes

    moto_fixes.apply()
    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    print(READY, flush=True)
    try:
        while os.getppid() == parent:
            time.sleep(0.5)
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group; the parent stops us
        while os.getppid() == parent:
            time.sleep(0.1)
    finally:
        server.stop()
    return 0


class AwsServerProcess:
    """Starts the server process and waits until it listens; `stop()` ends it."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._process: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 60.0) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        self._process = subprocess.Popen(  # noqa: S603 (this interpreter, this module)
            [sys.executable, "-m", "localcloud.awsserver", "--host", self.host, "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        deadline = time.monotonic() + timeout
        line = self._process.stdout.readline().strip()  # blocks until the server says it listens
        if line != READY or time.monotonic() > deadline:
            self.stop()
            raise RuntimeError(f"the AWS endpoint did not start (exit code {self._process.poll()})")

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


if __name__ == "__main__":
    sys.exit(main())
