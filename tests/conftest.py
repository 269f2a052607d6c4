"""Shared fixtures: a moto-backed AWS with Tenancy's tables, bucket and bus, built from the topology."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT / "layers/shared/python", ROOT / "cdk", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from tenancy.common.names import METRICS_NAMESPACE  # noqa: E402 (the layer is on the path only now)

# Fake credentials and a fixed region before anything creates a client; never reach real AWS.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
    POWERTOOLS_TRACE_DISABLED="true",
    POWERTOOLS_METRICS_NAMESPACE=METRICS_NAMESPACE,
    POWERTOOLS_SERVICE_NAME="tenancy-tests",
    POWERTOOLS_DEV="false",
    APP_NAME="tenancy",
    STAGE="test",
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

from tests.helpers.cloud import Cloud, reset_process_caches  # noqa: E402


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    """A fresh moto account holding Tenancy's control and app tables, tenant bucket and event bus."""
    from moto import mock_aws

    from localcloud import moto_fixes
    from tests.helpers import fast_moto

    moto_fixes.apply()
    fast_moto.apply()  # the same fresh account, without the setup work no test looks at
    with mock_aws(config=fast_moto.MOCK_CONFIG):
        reset_process_caches()
        yield Cloud.create()
    reset_process_caches()


# --- scheduling ------------------------------------------------------------------------------------
# `make test` hands whole files to two workers (xdist `--dist loadfile`), here in collection order.
# xdist's default order, most tests first, left the files of a few long tests (fuzzing, the fault
# suite, the bench smoke run) to the end: one worker ran them while the other sat idle. The longest
# files go first here, then the end-to-end ones, the infrastructure ones (one unit of work: the CDK
# app is synthesized once, on one worker), the integration ones and the unit ones, the shortest,
# last.
LONGEST_FIRST = (
    "tests/e2e/test_fuzz_openapi.py",
    "tests/integration/test_bench_smoke.py",
    "tests/e2e/test_faults.py",
    "tests/integration/test_isolation_property.py",
)
DIRECTORIES = ("tests/e2e/", "tests/infrastructure/", "tests/integration/", "tests/unit/")
SYNTHESIZING = "tests/infrastructure/"


def _rank(path: str) -> tuple[int, int]:
    if path in LONGEST_FIRST:
        return 0, LONGEST_FIRST.index(path)
    return 1 + next((i for i, d in enumerate(DIRECTORIES) if path.startswith(d)), len(DIRECTORIES)), 0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: _rank(item.nodeid.split("::", 1)[0]))  # stable: files stay whole


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """`--dist loadfile` in collection order, with every infrastructure file in one unit of work."""
    if config.getvalue("dist") != "loadfile":
        return None
    config.option.loadscopereorder = False  # as --no-loadscope-reorder
    from xdist.scheduler import LoadFileScheduling

    class Scheduling(LoadFileScheduling):  # type: ignore[misc]  # xdist is untyped here
        def _split_scope(self, nodeid: str) -> str:
            return SYNTHESIZING if nodeid.startswith(SYNTHESIZING) else super()._split_scope(nodeid)

    return Scheduling(config, log)
