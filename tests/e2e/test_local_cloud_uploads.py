"""The local cloud's part in issue 13, over its two ports: S3's Object Created events of the pooled
and silo buckets reach the import function through a default-bus rule; presigned POST uploads are
path-style URLs on the AWS port and held to their policy (size cap, key, expiry); Lambda's Invoke
API serves the card executor on the gateway port."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import RunningCloud, data_route, objects
from tests.e2e.test_app_plane import User, token
from tests.e2e.test_local_cloud import create, wait_for

POOL_BUCKET = "tenancy-local-tenants"
EXECUTOR = "tenancy-local-card-executor"


@pytest.fixture(scope="module")
def tenants(cloud: RunningCloud) -> dict[str, Any]:
    api = cloud.client()
    made = {slug: create(api, slug, tier) for slug, tier in (("up-pool", "PRO"), ("up-silo", "ENTERPRISE"))}
    for tenant in made.values():
        status = wait_for(api, tenant["tenantId"], {"PROVISIONED", "FAILED"}, timeout=120)
        assert status["provisioningStatus"] == "PROVISIONED", status
    return made


def lambda_client(cloud: RunningCloud, **credentials: str) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=cloud.api_url,
        region_name="us-east-1",
        aws_access_key_id=credentials.get("key", "test"),
        aws_secret_access_key=credentials.get("secret", "test"),
        aws_session_token=None,
    )


def gone(cloud: RunningCloud, bucket: str, key: str, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if key not in objects(cloud, bucket, key):
            return True
        time.sleep(0.2)
    return False


# --- S3 -> EventBridge -> dataset_import ----------------------------------------------------------


def test_the_upload_rule_is_on_the_default_bus_for_the_pool_and_silo_buckets(
    cloud: RunningCloud, tenants: dict[str, Any]
) -> None:
    """(moto's GetBucketNotificationConfiguration leaves an empty EventBridgeConfiguration out: the
    delivery test below is what shows both buckets send their events.)"""
    silo_bucket = data_route(cloud, tenants["up-silo"]["tenantId"])["s3/bucket"]
    assert silo_bucket.startswith("tenancy-local-tenant-")  # named by CloudFormation from its stack
    rule = cloud.aws("events").describe_rule(Name="tenancy-local-DatasetUploads")  # the default bus
    assert json.loads(rule["EventPattern"])["detail"]["bucket"]["name"] == [
        POOL_BUCKET,
        {"prefix": "tenancy-local-tenant-"},
    ]


@pytest.mark.parametrize("slug", ["up-pool", "up-silo"])
def test_an_upload_reaches_the_import_in_either_bucket(
    cloud: RunningCloud, tenants: dict[str, Any], slug: str
) -> None:
    """An upload whose dataset does not exist is superseded: the import, once invoked, deletes it
    (issue 13's import step 1). Objects the rule does not match are never handed to it."""
    tenant_id = tenants[slug]["tenantId"]
    bucket = data_route(cloud, tenant_id)["s3/bucket"]
    prefix = f"tenants/{tenant_id}/datasets/no-such-dataset/uploads/"
    s3 = cloud.aws("s3")
    unmatched = [prefix + "u1.txt", f"elsewhere/{tenant_id}/uploads/u1.csv"]
    for key in unmatched:
        s3.put_object(Bucket=bucket, Key=key, Body=b"a,b\n1,2\n")
    upload = prefix + "u1.csv"
    s3.put_object(Bucket=bucket, Key=upload, Body=b"a,b\n1,2\n")
    assert gone(cloud, bucket, upload), f"the import never removed {upload} from {bucket}"
    for key in unmatched:
        assert objects(cloud, bucket, key) == [key]
        s3.delete_object(Bucket=bucket, Key=key)


# --- presigned POST uploads -----------------------------------------------------------------------


def curl_form(url: str, fields: dict[str, str], body: bytes, tmp_path: Any) -> tuple[int, str]:
    """`curl -F` as the README shows it: every field, then the file."""
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    file = tmp_path / "data.csv"
    file.write_bytes(body)
    args = ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", url]
    for name, value in fields.items():
        args += ["-F", f"{name}={value}"]
    args += ["-F", f"file=@{file}"]
    completed = subprocess.run(args, capture_output=True, text=True, timeout=30, check=True)
    text, _, status = completed.stdout.rpartition("\n")
    return int(status), text


def presigned(cloud: RunningCloud, key: str, max_bytes: int, expires_in: int = 60) -> dict[str, Any]:
    return cloud.aws("s3").generate_presigned_post(  # type: ignore[no-any-return]
        Bucket=POOL_BUCKET,
        Key=key,
        Fields={"key": key},
        Conditions=[{"key": key}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=expires_in,
    )


def test_a_presigned_post_is_held_to_its_size_cap(cloud: RunningCloud, tmp_path: Any) -> None:
    key = "tenants/cap-test/notes/cap.txt"
    post = presigned(cloud, key, max_bytes=10)
    assert post["url"] == f"{cloud.aws_url}/{POOL_BUCKET}"  # path-style, on the local AWS port
    status, text = curl_form(post["url"], post["fields"], b"x" * 11, tmp_path)
    assert status == 400, text
    assert "<Code>EntityTooLarge</Code>" in text
    assert "<MaxSizeAllowed>10</MaxSizeAllowed>" in text
    assert objects(cloud, POOL_BUCKET, key) == []
    status, text = curl_form(post["url"], post["fields"], b"", tmp_path)
    assert (status, "<Code>EntityTooSmall</Code>" in text) == (400, True), text
    assert objects(cloud, POOL_BUCKET, key) == []
    status, text = curl_form(post["url"], post["fields"], b"x" * 10, tmp_path)
    assert status == 204, text
    assert cloud.aws("s3").get_object(Bucket=POOL_BUCKET, Key=key)["Body"].read() == b"x" * 10


def test_a_presigned_post_writes_only_its_own_key_and_only_until_it_expires(
    cloud: RunningCloud, tmp_path: Any
) -> None:
    key = "tenants/key-test/notes/mine.txt"
    post = presigned(cloud, key, max_bytes=100)
    other = "tenants/someone-else/notes/theirs.txt"
    status, text = curl_form(post["url"], {**post["fields"], "key": other}, b"sneaky", tmp_path)
    assert status == 403, text
    assert "Policy Condition failed" in text
    assert objects(cloud, POOL_BUCKET, "tenants/someone-else/") == []
    status, text = curl_form(post["url"], {**post["fields"], "acl": "public-read"}, b"sneaky", tmp_path)
    assert (status, "Extra input fields: acl" in text) == (403, True), text
    assert objects(cloud, POOL_BUCKET, key) == []

    expired = presigned(cloud, key, max_bytes=100, expires_in=1)
    policy = json.loads(base64.b64decode(expired["fields"]["policy"]))
    assert ["content-length-range", 1, 100] in policy["conditions"]
    time.sleep(2.1)
    status, text = curl_form(expired["url"], expired["fields"], b"late", tmp_path)
    assert (status, "Policy expired" in text) == (403, True), text
    assert objects(cloud, POOL_BUCKET, key) == []


def test_post_datasets_answers_a_path_style_upload_on_the_local_aws_port(
    cloud: RunningCloud, tenants: dict[str, Any], tmp_path: Any
) -> None:
    admin = User(cloud.client(), token(cloud, "up-silo", "a@up-silo.example"))
    answer = admin("POST", "/datasets", {"name": "Curl", "hasHeader": True, "delimiter": ","})
    assert answer.status == 201, answer.body
    data = answer.body["data"]
    upload = data["upload"]
    bucket = data_route(cloud, tenants["up-silo"]["tenantId"])["s3/bucket"]
    assert upload["url"] == f"{cloud.aws_url}/{bucket}"
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    [cap] = [c for c in policy["conditions"] if isinstance(c, list) and c[0] == "content-length-range"]
    assert cap[2] > 0
    status, text = curl_form(upload["url"], upload["fields"], b"n\n1\n2\n", tmp_path)
    assert status == 204, text
    dataset_id = data["dataset"]["datasetId"]
    # The upload's Object Created event reached the import, which took the dataset on (what it makes
    # of the file is the import's business: tests/e2e/test_datasets.py).
    deadline = time.monotonic() + 30
    while (dataset := admin("GET", f"/datasets/{dataset_id}").body["data"])["status"] == "UPLOADING":
        assert time.monotonic() < deadline, json.dumps(dataset)
        time.sleep(0.2)
    assert dataset["status"] in ("IMPORTING", "READY", "FAILED"), dataset
    assert upload["fields"]["key"].endswith(f"/uploads/{dataset['uploadId']}.csv")


# --- Lambda Invoke for InvokeTrigger functions --------------------------------------------------


def test_the_card_executor_is_invoked_through_the_lambda_api(cloud: RunningCloud) -> None:
    request = {
        "code": "html = escape(str(sum(r['n'] for r in rows)) + '<')",
        "datasets": [
            {
                "datasetId": "d1",
                "columns": [{"name": "n", "type": "int64"}],
                "data": {"n": [1, 2, 3]},
                "rowCount": 3,
            }
        ],
    }
    answer = lambda_client(cloud).invoke(FunctionName=EXECUTOR, Payload=json.dumps(request).encode())
    assert answer["StatusCode"] == 200
    assert "FunctionError" not in answer
    result = json.loads(answer["Payload"].read())
    assert (result["ok"], result["html"]) == (True, "6&lt;")
    # By ARN too, as Lambda accepts it.
    arn = f"arn:aws:lambda:us-east-1:123456789012:function:{EXECUTOR}"
    by_arn = lambda_client(cloud).invoke(FunctionName=arn, Payload=json.dumps(request).encode())
    assert json.loads(by_arn["Payload"].read())["html"] == "6&lt;"


def test_a_function_error_is_reported_as_lambda_reports_it(cloud: RunningCloud) -> None:
    answer = lambda_client(cloud).invoke(FunctionName=EXECUTOR, Payload=b'{"code": 5}')
    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    payload = json.loads(answer["Payload"].read())
    assert payload["errorType"] == "ValidationError"
    assert payload["errorMessage"]


@pytest.mark.parametrize(
    "name", ["tenancy-local-nothing", "tenancy-local-app-api", "tenancy-local-dataset-import"]
)
def test_only_invoke_trigger_functions_are_served(cloud: RunningCloud, name: str) -> None:
    with pytest.raises(ClientError) as refused:
        lambda_client(cloud).invoke(FunctionName=name, Payload=b"{}")
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_a_badly_signed_invoke_is_refused(cloud: RunningCloud) -> None:
    with pytest.raises(ClientError) as refused:
        lambda_client(cloud, secret="wrong").invoke(FunctionName=EXECUTOR, Payload=b"{}")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
