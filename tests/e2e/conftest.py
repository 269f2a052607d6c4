"""Start the local cloud as a user would (`python -m localcloud`) and talk to it over HTTP only."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.credentials import Credentials

from localcloud.client import ControlPlaneClient
from localcloud.launch import free_port, start_cloud, wait_healthy
from tenancy.common.names import DISCOVERY_PARAMETERS

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RunningCloud:
    process: subprocess.Popen[str]
    api_url: str
    aws_url: str
    api_port: int
    aws_port: int
    stage: str = "local"

    def client(self) -> ControlPlaneClient:
        return ControlPlaneClient(self.api_url, Credentials("test", "test"))

    def aws(self, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.aws_url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            aws_session_token=None,
        )


def route(cloud: RunningCloud, tenant_id: str) -> dict[str, str]:
    """Every SSM parameter under the tenant's path (route and discovery), as {name below it: value}."""
    base = f"/tenancy/{cloud.stage}/tenants/{tenant_id}/"
    pages = cloud.aws("ssm").get_paginator("get_parameters_by_path").paginate(Path=base, Recursive=True)
    return {p["Name"][len(base) :]: p["Value"] for page in pages for p in page["Parameters"]}


def data_route(cloud: RunningCloud, tenant_id: str) -> dict[str, str]:
    """The route alone: `route` without the discovery parameters beside it (which outlive it)."""
    return {k: v for k, v in route(cloud, tenant_id).items() if k not in DISCOVERY_PARAMETERS}


def objects(cloud: RunningCloud, bucket: str, prefix: str) -> list[str]:
    listed = cloud.aws("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


@pytest.fixture(scope="session", autouse=True)
def interruptible_clouds() -> Iterator[None]:
    """A local cloud started here stops on Ctrl-C (SIGINT), as a user's does. A test run started in
    the background of a non-interactive shell ignores SIGINT (POSIX), and a child inherits an ignored
    signal: every cloud then ignored the tests' SIGINT (each module's teardown waited 15 s before
    killing it, and test_ctrl_c_stops_it_cleanly failed). Children get the default again."""
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"
    api_port, aws_port = free_port(), free_port()
    log_path = tmp_path_factory.mktemp("localcloud") / "localcloud.log"
    log = log_path.open("w")
    process = start_cloud(api_port, aws_port, log)
    running = RunningCloud(
        process, f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{aws_port}", api_port, aws_port
    )
    try:
        wait_healthy(running.api_url, process)
        yield running
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
