"""The provisioner against moto: pool and silo resources, routes, results, failures."""

from __future__ import annotations

import copy
from typing import Any

import boto3
import pytest

from tenancy.routing import RouteStore
from tests.helpers.cloud import Cloud, sample_event

TID = "3f1c2a9e-5b7d-4e1a-9c2f-8d6b4a1e7c05"


def request(detail_type: str, tier: str = "PRO", tenant_id: str = TID) -> dict[str, Any]:
    event = copy.deepcopy(sample_event("eventbridge-tenant-onboarding.json"))
    event["detail-type"] = detail_type
    event["detail"].update(tier=tier, tenantId=tenant_id)
    return event


def provision(cloud: Cloud, event: dict[str, Any]) -> dict[str, Any]:
    invocation = cloud.runtime.invoke("tenant_provisioner", event)
    assert invocation.error is None, invocation.error
    return invocation.result  # type: ignore[no-any-return]


def route(cloud: Cloud, tenant_id: str = TID) -> dict[str, str]:
    ssm = boto3.client("ssm")
    base = f"/tenancy/test/tenants/{tenant_id}/"
    params = ssm.get_parameters_by_path(Path=base, Recursive=True)["Parameters"]
    return {p["Name"][len(base) :]: p["Value"] for p in params}


def keys_under(bucket: str, prefix: str = "") -> list[str]:
    return [
        o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    ]


def put_app_item(cloud: Cloud, tenant_id: str, sk: str, table: str | None = None) -> None:
    boto3.client("dynamodb").put_item(
        TableName=table or cloud.settings.app_table_name,
        Item={"PK": {"S": f"TENANT#{tenant_id}"}, "SK": {"S": sk}, "v": {"S": "x"}},
    )


def partition(cloud: Cloud, tenant_id: str, table: str | None = None) -> list[str]:
    items = boto3.client("dynamodb").query(
        TableName=table or cloud.settings.app_table_name,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}},
    )["Items"]
    return [i["SK"]["S"] for i in items]


def test_pool_onboarding_claims_a_prefix_and_records_the_route(cloud: Cloud) -> None:
    result = provision(cloud, request("TenantOnboarding", "PRO"))
    prefix = f"tenants/{TID}/"
    assert result["detailType"] == "TenantProvisioned"
    assert result["detail"]["status"] == "COMPLETED"
    assert result["detail"]["resources"] == {
        "s3Prefix": prefix,
        "dedicatedBucket": None,
        "dedicatedTable": None,
    }
    assert keys_under(cloud.settings.tenant_bucket_name) == [f"{prefix}.tenant.json"]
    assert route(cloud) == {
        "isolation": "pool",
        "dynamodb/table-name": cloud.settings.app_table_name,
        "s3/bucket": cloud.settings.tenant_bucket_name,
        "s3/prefix": prefix,
    }
    [event] = cloud.bus_events("TenantProvisioned")
    assert event["source"] == "tenancy.application-plane"
    assert event["detail"] == {
        "tenantId": TID,
        "status": "COMPLETED",
        "resources": {"s3Prefix": prefix},
        "timestamp": event["detail"]["timestamp"],
        "operationId": sample_event("eventbridge-tenant-onboarding.json")["detail"]["operationId"],
    }


def test_pool_onboarding_is_idempotent(cloud: Cloud) -> None:
    first = provision(cloud, request("TenantOnboarding"))
    second = provision(cloud, request("TenantOnboarding"))
    assert first["detail"]["resources"] == second["detail"]["resources"]
    assert len(keys_under(cloud.settings.tenant_bucket_name)) == 1
    assert [e["detail"]["status"] for e in cloud.bus_events("TenantProvisioned")] == [
        "COMPLETED",
        "COMPLETED",
    ]


def test_pool_offboarding_purges_only_this_tenant(cloud: Cloud) -> None:
    other = "a-neighbour"
    for tenant_id in (TID, other):
        provision(cloud, request("TenantOnboarding", tenant_id=tenant_id))
        put_app_item(cloud, tenant_id, "EXEC#1")
        put_app_item(cloud, tenant_id, "AGENT#1")
        boto3.client("s3").put_object(
            Bucket=cloud.settings.tenant_bucket_name, Key=f"tenants/{tenant_id}/file.txt", Body=b"x"
        )
    # a tenant whose id extends this one's must not be touched by a prefix match
    put_app_item(cloud, TID + "0", "EXEC#1")

    result = provision(cloud, request("TenantOffboarding"))
    assert result["detailType"] == "TenantDeprovisioned"
    assert result["detail"]["status"] == "COMPLETED"
    assert partition(cloud, TID) == []
    assert keys_under(cloud.settings.tenant_bucket_name, f"tenants/{TID}/") == []
    assert route(cloud) == {}
    assert sorted(partition(cloud, other)) == ["AGENT#1", "EXEC#1"]
    assert partition(cloud, TID + "0") == ["EXEC#1"]
    assert len(keys_under(cloud.settings.tenant_bucket_name, f"tenants/{other}/")) == 2
    assert route(cloud, other)["isolation"] == "pool"


def test_pool_offboarding_purges_large_partitions(cloud: Cloud) -> None:
    provision(cloud, request("TenantOnboarding"))
    for i in range(60):
        put_app_item(cloud, TID, f"EXEC#{i:03d}")
    provision(cloud, request("TenantOffboarding"))
    assert partition(cloud, TID) == []


def test_offboarding_twice_is_harmless(cloud: Cloud) -> None:
    provision(cloud, request("TenantOnboarding"))
    assert provision(cloud, request("TenantOffboarding"))["detail"]["status"] == "COMPLETED"
    assert provision(cloud, request("TenantOffboarding"))["detail"]["status"] == "COMPLETED"


def test_a_failure_is_reported_as_failed_with_the_error(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    def ssm_refuses(self: RouteStore, tenant_id: str, route: Any) -> None:
        raise PermissionError("ssm:PutParameter denied")

    monkeypatch.setattr(RouteStore, "put", ssm_refuses)
    result = provision(cloud, request("TenantOnboarding"))
    assert result["detail"]["status"] == "FAILED"
    assert result["detail"]["error"] == "PermissionError: ssm:PutParameter denied"
    [event] = cloud.bus_events("TenantProvisioned")
    assert event["detail"]["status"] == "FAILED"
    assert event["detail"]["error"] == "PermissionError: ssm:PutParameter denied"


def test_an_unpublishable_result_fails_the_invocation_for_a_retry(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tenancy.errors import EventPublishError
    from tenancy.events import EventPublisher

    def bus_down(self: EventPublisher, events: Any) -> None:
        raise EventPublishError("down")

    monkeypatch.setattr(EventPublisher, "publish", bus_down)
    invocation = cloud.runtime.invoke("tenant_provisioner", request("TenantOnboarding"))
    assert isinstance(invocation.error, EventPublishError)


def test_a_request_that_is_not_a_lifecycle_event_is_refused(cloud: Cloud) -> None:
    invocation = cloud.runtime.invoke(
        "tenant_provisioner", sample_event("eventbridge-tenant-provisioned.json")
    )
    assert invocation.error is not None
    assert cloud.bus_events() == []


def stack_name(tenant_id: str = TID) -> str:
    return f"tenancy-test-tenant-{tenant_id}"


def test_silo_onboarding_creates_a_stack_with_a_dedicated_bucket_and_table(cloud: Cloud) -> None:
    result = provision(cloud, request("TenantOnboarding", "ENTERPRISE"))
    assert result["detail"]["status"] == "COMPLETED", result
    resources = result["detail"]["resources"]
    [stack] = boto3.client("cloudformation").describe_stacks(StackName=stack_name())["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["Parameters"] == [{"ParameterKey": "TenantId", "ParameterValue": TID}]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert resources == {
        "s3Prefix": f"tenants/{TID}/",
        "dedicatedBucket": outputs["BucketName"],
        "dedicatedTable": outputs["TableName"],
    }
    # the dedicated table has the pooled table's schema
    dynamodb = boto3.client("dynamodb")
    dedicated = dynamodb.describe_table(TableName=outputs["TableName"])["Table"]
    pooled = dynamodb.describe_table(TableName=cloud.settings.app_table_name)["Table"]
    assert dedicated["KeySchema"] == pooled["KeySchema"]
    assert sorted(i["IndexName"] for i in dedicated["GlobalSecondaryIndexes"]) == ["GSI1", "GSI2"]
    assert keys_under(outputs["BucketName"]) == [f"tenants/{TID}/.tenant.json"]
    assert keys_under(cloud.settings.tenant_bucket_name) == []  # nothing in the pool
    assert route(cloud) == {
        "isolation": "silo",
        "dynamodb/table-name": outputs["TableName"],
        "s3/bucket": outputs["BucketName"],
        "s3/prefix": f"tenants/{TID}/",
    }


def test_silo_onboarding_redelivered_reuses_the_stack(cloud: Cloud) -> None:
    first = provision(cloud, request("TenantOnboarding", "ENTERPRISE"))
    second = provision(cloud, request("TenantOnboarding", "ENTERPRISE"))
    assert first["detail"]["resources"] == second["detail"]["resources"]
    stacks = boto3.client("cloudformation").list_stacks(StackStatusFilter=["CREATE_COMPLETE"])[
        "StackSummaries"
    ]
    assert [s["StackName"] for s in stacks] == [stack_name()]


def test_silo_offboarding_deletes_the_stack_bucket_table_and_route(cloud: Cloud) -> None:
    resources = provision(cloud, request("TenantOnboarding", "ENTERPRISE"))["detail"]["resources"]
    put_app_item(cloud, TID, "EXEC#1", table=resources["dedicatedTable"])
    boto3.client("s3").put_object(
        Bucket=resources["dedicatedBucket"], Key=f"tenants/{TID}/doc.txt", Body=b"x"
    )

    result = provision(cloud, request("TenantOffboarding", "ENTERPRISE"))
    assert result["detail"]["status"] == "COMPLETED", result
    cloudformation = boto3.client("cloudformation")
    live = cloudformation.list_stacks(StackStatusFilter=["CREATE_COMPLETE", "DELETE_FAILED"])[
        "StackSummaries"
    ]
    assert live == []
    assert resources["dedicatedTable"] not in boto3.client("dynamodb").list_tables()["TableNames"]
    assert resources["dedicatedBucket"] not in [
        b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]
    ]
    assert route(cloud) == {}


def test_silo_without_a_template_fails_with_the_reason(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SILO_TEMPLATE_URL", "")
    from tenancy.config import get_settings

    get_settings.cache_clear()
    cloud.runtime = type(cloud.runtime)()  # a cold start that reads the new environment
    result = provision(cloud, request("TenantOnboarding", "ENTERPRISE"))
    assert result["detail"]["status"] == "FAILED"
    assert result["detail"]["error"] == "StackFailed: SILO_TEMPLATE_URL is not configured"
    assert route(cloud) == {}


def test_silo_offboarding_redelivered_after_its_stack_was_deleted_completes(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first attempt removed the users and deleted the stack (and with it the table holding the
    USER# items), then died before removing the route: the redelivery must not look for users in
    the deleted table, and must finish the job."""
    from localcloud.runtime import InvocationCrashed

    resources = provision(cloud, request("TenantOnboarding", "ENTERPRISE"))["detail"]["resources"]

    def dies(self: RouteStore, tenant_id: str) -> None:
        raise InvocationCrashed("the execution environment died")

    with monkeypatch.context() as patched:
        patched.setattr(RouteStore, "delete", dies)
        first = cloud.runtime.invoke("tenant_provisioner", request("TenantOffboarding", "ENTERPRISE"))
    assert isinstance(first.error, InvocationCrashed)
    assert resources["dedicatedTable"] not in boto3.client("dynamodb").list_tables()["TableNames"]
    assert route(cloud)["isolation"] == "silo"

    result = provision(cloud, request("TenantOffboarding", "ENTERPRISE"))
    assert result["detail"]["status"] == "COMPLETED", result["detail"]["error"]
    assert route(cloud) == {}
    [event] = cloud.bus_events("TenantDeprovisioned")
    assert event["detail"]["status"] == "COMPLETED"


def lifecycle(detail_type: str, tier: str, operation: str, requested_at: str) -> dict[str, Any]:
    event = request(detail_type, tier)
    event["detail"].update(operationId=operation, timestamp=requested_at)
    return event


@pytest.mark.parametrize("tier", ["PRO", "ENTERPRISE"])
def test_an_onboarding_redelivered_after_the_offboarding_brings_nothing_back(cloud: Cloud, tier: str) -> None:
    onboarding = lifecycle("TenantOnboarding", tier, "op-1", "2026-11-25T10:00:00.000Z")
    provision(cloud, onboarding)
    provision(cloud, lifecycle("TenantOffboarding", tier, "op-2", "2026-11-25T10:05:00.000Z"))

    late = provision(cloud, onboarding)  # EventBridge delivers the first request once more
    assert route(cloud) == {}
    assert keys_under(cloud.settings.tenant_bucket_name) == []
    live = boto3.client("cloudformation").list_stacks(StackStatusFilter=["CREATE_COMPLETE"])["StackSummaries"]
    assert live == []
    assert len(cloud.bus_events("TenantProvisioned")) == 1  # no result for a request nobody waits for
    assert late["ignored"] == "stale request: the tenant's latest operation is op-2"


def test_an_offboarding_redelivered_after_the_tenant_was_onboarded_again_takes_nothing_away(
    cloud: Cloud,
) -> None:
    offboarding = lifecycle("TenantOffboarding", "PRO", "op-2", "2026-11-25T10:05:00.000Z")
    provision(cloud, lifecycle("TenantOnboarding", "PRO", "op-1", "2026-11-25T10:00:00.000Z"))
    provision(cloud, offboarding)  # (its result failed, say, and the operator retried the tenant)
    provision(cloud, lifecycle("TenantOnboarding", "PRO", "op-3", "2026-11-25T10:10:00.000Z"))
    put_app_item(cloud, TID, "AGENT#1")

    late = provision(cloud, offboarding)
    assert route(cloud).get("isolation") == "pool"
    assert "AGENT#1" in partition(cloud, TID)
    assert keys_under(cloud.settings.tenant_bucket_name) == [f"tenants/{TID}/.tenant.json"]
    assert late["ignored"] == "stale request: the tenant's latest operation is op-3"


def test_the_current_request_delivered_again_acts_again(cloud: Cloud) -> None:
    first = lifecycle("TenantOnboarding", "PRO", "op-1", "2026-11-25T10:00:00.000Z")
    provision(cloud, first)
    boto3.client("s3").delete_object(
        Bucket=cloud.settings.tenant_bucket_name, Key=f"tenants/{TID}/.tenant.json"
    )
    republished = lifecycle("TenantOnboarding", "PRO", "op-1", "2026-11-25T10:00:01.000Z")
    assert provision(cloud, republished)["detail"]["status"] == "COMPLETED"
    assert provision(cloud, first)["detail"]["status"] == "COMPLETED"  # an older copy of the same request
    assert keys_under(cloud.settings.tenant_bucket_name) == [f"tenants/{TID}/.tenant.json"]
