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
