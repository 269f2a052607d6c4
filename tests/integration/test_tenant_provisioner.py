"""The provisioner against moto: pool and silo resources, routes, results, failures."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tenancy.application.access.routing import RouteStore
from tenancy.application.provisioning import OperationInProgress
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
    # still open, with the counters the provisioner starts at zero
    assert sorted(partition(cloud, other)) == [
        "AGENT#1",
        "COUNT#AGENT",
        "COUNT#DATASET",
        "COUNT#USER",
        "EXEC#1",
        "PARTITION",
    ]
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
    from tenancy.common.errors import EventPublishError
    from tenancy.contracts.publisher import EventPublisher

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
    from tenancy.common.config import get_settings

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

    offboarding = request("TenantOffboarding", "ENTERPRISE")
    with monkeypatch.context() as patched:
        patched.setattr(RouteStore, "delete", dies)
        first = cloud.runtime.invoke("tenant_provisioner", offboarding, request_id="the-event")
    assert isinstance(first.error, InvocationCrashed)
    assert resources["dedicatedTable"] not in boto3.client("dynamodb").list_tables()["TableNames"]
    assert route(cloud)["isolation"] == "silo"
    retried = cloud.runtime.invoke(
        "tenant_provisioner", offboarding, request_id="the-event"
    )  # Lambda's retry
    assert retried.error is None, retried.error
    result = retried.result
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


# --- the lease: one invocation at a time works on a tenant ---------------------------------------

ONBOARDED_AT = "2026-11-25T10:00:00.000Z"
OFFBOARDED_AT = "2026-11-25T10:05:00.000Z"
ADMIN = "admin@acme.example"


def with_admin(event: dict[str, Any]) -> dict[str, Any]:
    event["detail"]["adminEmail"] = ADMIN
    return event


def cognito_users(cloud: Cloud, tenant_id: str = TID) -> list[str]:
    users = boto3.client("cognito-idp").list_users(UserPoolId=cloud.settings.user_pool_id)["Users"]
    return [
        u["Username"]
        for u in users
        if {"Name": "custom:tenantId", "Value": tenant_id} in u.get("Attributes", [])
    ]


def ledger_item(cloud: Cloud, tenant_id: str = TID) -> dict[str, Any]:
    found: Any = boto3.client("dynamodb").get_item(
        TableName=cloud.settings.app_table_name,
        Key={"PK": {"S": f"LIFECYCLE#{tenant_id}"}, "SK": {"S": "LATEST"}},
        ConsistentRead=True,
    )
    return dict(found.get("Item", {}))


class Gate:
    """Holds an invocation inside one step of the provisioner until the test lets it go on."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.proceed = threading.Event()
        self.inside = 0
        self.most_inside = 0
        self.calls = 0
        self._lock = threading.Lock()

    def wrap(self, step: Callable[..., Any]) -> Callable[..., Any]:
        def held(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.calls += 1
                self.inside += 1
                self.most_inside = max(self.most_inside, self.inside)
            self.entered.set()
            try:
                assert self.proceed.wait(timeout=30), "the test never let the step go on"
                return step(*args, **kwargs)
            finally:
                with self._lock:
                    self.inside -= 1

        return held


def in_background(cloud: Cloud, event: dict[str, Any], request_id: str) -> tuple[threading.Thread, list[Any]]:
    outcome: list[Any] = []
    thread = threading.Thread(
        target=lambda: outcome.append(
            cloud.runtime.invoke("tenant_provisioner", event, request_id=request_id)
        )
    )
    thread.start()
    return thread, outcome


@pytest.fixture
def no_lease_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """A request finding the tenant busy is refused at once (instead of waiting in-process first)."""
    monkeypatch.setattr("tenancy.application.provisioning.LEASE_WAIT_SECONDS", 0.0)


def test_an_offboarding_arriving_while_an_onboarding_copy_runs_is_refused_then_leaves_nothing(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch, no_lease_wait: None
) -> None:
    """The time-of-check/time-of-use race: a duplicate of the onboarding claimed the ledger (its own,
    current operation) before the offboarding arrived and is still at work. Without the lease the
    offboarding removes the admin, the route and the prefix, and the copy then creates them again."""
    from tenancy.application.users import service as application

    onboarding = with_admin(lifecycle("TenantOnboarding", "PRO", "op-1", ONBOARDED_AT))
    offboarding = with_admin(lifecycle("TenantOffboarding", "PRO", "op-2", OFFBOARDED_AT))
    assert provision(cloud, onboarding)["detail"]["status"] == "COMPLETED"
    [admin] = cognito_users(cloud)

    gate = Gate()  # the copy has re-claimed the prefix and re-written the route; next: the admin
    monkeypatch.setattr("tenancy.application.provisioning.add_user", gate.wrap(application.add_user))
    copy_thread, copy_outcome = in_background(cloud, onboarding, request_id="onboarding-copy")
    assert gate.entered.wait(timeout=30)

    refused = cloud.runtime.invoke("tenant_provisioner", offboarding, request_id="offboarding")
    assert isinstance(refused.error, OperationInProgress), refused.error
    assert refused.error.operation_id == "op-1"
    # ... having written nothing: everything is there, and the ledger still holds the copy's lease
    assert route(cloud)["isolation"] == "pool"
    assert keys_under(cloud.settings.tenant_bucket_name) == [f"tenants/{TID}/.tenant.json"]
    assert [sk for sk in partition(cloud, TID) if sk.startswith("USER#")] == [f"USER#{admin}"]
    assert cognito_users(cloud) == [admin]
    assert cloud.bus_events("TenantDeprovisioned") == []
    held = ledger_item(cloud)
    assert (held["operationId"]["S"], held["holder"]["S"]) == ("op-1", "onboarding-copy")

    gate.proceed.set()
    copy_thread.join(timeout=30)
    [copied] = copy_outcome
    assert copied.error is None, copied.error
    assert copied.result["detail"]["status"] == "COMPLETED"
    assert "holder" not in ledger_item(cloud)  # released

    # Lambda's retry of the offboarding (the same event, the same request id), after the copy:
    retried = cloud.runtime.invoke("tenant_provisioner", offboarding, request_id="offboarding")
    assert retried.error is None, retried.error
    assert retried.result["detail"]["status"] == "COMPLETED"
    assert route(cloud) == {}
    assert keys_under(cloud.settings.tenant_bucket_name) == []
    assert [sk for sk in partition(cloud, TID) if sk.startswith("USER#")] == []
    assert cognito_users(cloud) == []
    # and a copy of the onboarding arriving later still is stale: it brings nothing back
    assert provision(cloud, onboarding)["ignored"] == "stale request: the tenant's latest operation is op-2"
    assert (route(cloud), cognito_users(cloud)) == ({}, [])
    assert gate.calls == 1  # only the copy went through the gate: nothing ran after the offboarding


def test_two_copies_of_one_onboarding_never_run_at_once(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch, no_lease_wait: None
) -> None:
    from tenancy.application.provisioning import pool

    onboarding = with_admin(lifecycle("TenantOnboarding", "PRO", "op-1", ONBOARDED_AT))
    gate = Gate()
    monkeypatch.setattr(pool, "create_prefix", gate.wrap(pool.create_prefix))
    first_thread, first_outcome = in_background(cloud, onboarding, request_id="copy-1")
    assert gate.entered.wait(timeout=30)

    copies = [cloud.runtime.invoke("tenant_provisioner", onboarding, request_id=f"copy-{i}") for i in (2, 3)]
    assert all(isinstance(c.error, OperationInProgress) for c in copies), [c.error for c in copies]
    assert gate.calls == 1  # the copies did not start the work
    assert cloud.bus_events("TenantProvisioned") == []

    gate.proceed.set()
    first_thread.join(timeout=30)
    [first] = first_outcome
    assert first.error is None, first.error
    assert first.result["detail"]["status"] == "COMPLETED"
    retried = cloud.runtime.invoke("tenant_provisioner", onboarding, request_id="copy-2")  # its retry
    assert retried.error is None, retried.error
    assert retried.result["detail"]["status"] == "COMPLETED"
    assert gate.calls == 2
    assert gate.most_inside == 1  # one after the other, never side by side
    assert len(cognito_users(cloud)) == 1
    assert keys_under(cloud.settings.tenant_bucket_name) == [f"tenants/{TID}/.tenant.json"]


def test_an_offboarding_waits_in_process_for_the_onboarding_copy_then_leaves_nothing(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same race, with the provisioner's short in-process wait: the offboarding writes nothing
    while the copy works, then runs as soon as the copy has released the lease."""
    from tenancy.application.users import service as application

    onboarding = with_admin(lifecycle("TenantOnboarding", "PRO", "op-1", ONBOARDED_AT))
    offboarding = with_admin(lifecycle("TenantOffboarding", "PRO", "op-2", OFFBOARDED_AT))
    provision(cloud, onboarding)
    gate = Gate()
    monkeypatch.setattr("tenancy.application.provisioning.add_user", gate.wrap(application.add_user))
    copy_thread, copy_outcome = in_background(cloud, onboarding, request_id="onboarding-copy")
    assert gate.entered.wait(timeout=30)

    offboarding_thread, offboarding_outcome = in_background(cloud, offboarding, request_id="offboarding")
    time.sleep(0.5)  # the offboarding is waiting for the lease (LEASE_WAIT_SECONDS)
    assert offboarding_outcome == []
    assert route(cloud)["isolation"] == "pool"
    assert ledger_item(cloud)["holder"]["S"] == "onboarding-copy"

    gate.proceed.set()
    copy_thread.join(timeout=30)
    offboarding_thread.join(timeout=30)
    [copied], [offboarded] = copy_outcome, offboarding_outcome
    assert copied.error is None, copied.error
    assert offboarded.error is None, offboarded.error
    assert offboarded.result["detail"]["status"] == "COMPLETED"
    assert route(cloud) == {}
    assert keys_under(cloud.settings.tenant_bucket_name) == []
    assert [sk for sk in partition(cloud, TID) if sk.startswith("USER#")] == []
    assert cognito_users(cloud) == []


def test_copies_of_one_request_arriving_together_take_turns(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four copies at once: one works, the others wait for the lease in turn (none is refused, so
    none uses up a retry), and never two at a time."""
    from tenancy.application.provisioning import pool

    onboarding = with_admin(lifecycle("TenantOnboarding", "PRO", "op-1", ONBOARDED_AT))
    gate = Gate()
    gate.proceed.set()  # not held: the gate only counts who is inside
    create_prefix = pool.create_prefix

    def slowly(*args: Any) -> Any:
        time.sleep(0.2)  # long enough for every copy to find the first one at work
        return create_prefix(*args)

    monkeypatch.setattr(pool, "create_prefix", gate.wrap(slowly))
    runs = [in_background(cloud, onboarding, request_id=f"copy-{i}") for i in range(4)]
    for thread, _ in runs:
        thread.join(timeout=60)
    outcomes = [outcome for _, [outcome] in runs]
    assert [o.error for o in outcomes] == [None] * 4
    assert [o.result["detail"]["status"] for o in outcomes] == ["COMPLETED"] * 4
    assert gate.calls == 4
    assert gate.most_inside == 1
    assert len(cognito_users(cloud)) == 1
    assert "holder" not in ledger_item(cloud)


def crashed_holder(cloud: Cloud, operation: str, requested_at: str, running_until_ms: int) -> None:
    """The ledger as an invocation that died holding the lease leaves it."""
    boto3.client("dynamodb").put_item(
        TableName=cloud.settings.app_table_name,
        Item={
            "PK": {"S": f"LIFECYCLE#{TID}"},
            "SK": {"S": "LATEST"},
            "operationId": {"S": operation},
            "requestedAt": {"S": requested_at},
            "detailType": {"S": "TenantOnboarding"},
            "holder": {"S": "a-dead-invocation"},
            "runningUntil": {"N": str(running_until_ms)},
            "expiresAt": {"N": str(int(time.time()) + 3600)},
        },
    )


def test_a_crashed_holders_lease_is_taken_over_once_it_lapses(cloud: Cloud, no_lease_wait: None) -> None:
    onboarding = with_admin(lifecycle("TenantOnboarding", "PRO", "op-1", ONBOARDED_AT))
    offboarding = with_admin(lifecycle("TenantOffboarding", "PRO", "op-2", OFFBOARDED_AT))
    now_ms = int(time.time() * 1000)

    crashed_holder(cloud, "op-1", ONBOARDED_AT, running_until_ms=now_ms + 60_000)  # still its time
    for event in (onboarding, offboarding):  # neither another copy nor the next operation gets in
        refused = cloud.runtime.invoke("tenant_provisioner", event)
        assert isinstance(refused.error, OperationInProgress), refused.error
    assert route(cloud) == {}
    assert ledger_item(cloud)["holder"]["S"] == "a-dead-invocation"

    crashed_holder(cloud, "op-1", ONBOARDED_AT, running_until_ms=now_ms - 1)  # its time is over
    assert provision(cloud, onboarding)["detail"]["status"] == "COMPLETED"  # another copy takes over
    assert route(cloud)["isolation"] == "pool"
    assert len(cognito_users(cloud)) == 1

    # Killed (out of memory) with time left: Lambda's retry of its event, which keeps the request id,
    # takes the lease over at once; anyone else waits.
    crashed_holder(cloud, "op-1", ONBOARDED_AT, running_until_ms=now_ms + 60_000)
    retry = cloud.runtime.invoke("tenant_provisioner", onboarding, request_id="a-dead-invocation")
    assert retry.error is None, retry.error
    assert retry.result["detail"]["status"] == "COMPLETED"

    crashed_holder(cloud, "op-1", ONBOARDED_AT, running_until_ms=now_ms - 1)  # died again, lapsed
    assert provision(cloud, offboarding)["detail"]["status"] == "COMPLETED"  # the next operation too
    assert (route(cloud), cognito_users(cloud)) == ({}, [])
    assert ledger_item(cloud)["operationId"]["S"] == "op-2"
    assert "holder" not in ledger_item(cloud)


def test_a_stale_request_is_ignored_even_while_a_lease_is_live(cloud: Cloud) -> None:
    """An older, different operation is never run, so it need not wait: it is not retried."""
    crashed_holder(cloud, "op-2", OFFBOARDED_AT, running_until_ms=int(time.time() * 1000) + 60_000)
    late = provision(cloud, with_admin(lifecycle("TenantOnboarding", "PRO", "op-1", ONBOARDED_AT)))
    assert late["ignored"] == "stale request: the tenant's latest operation is op-2"


def test_a_lease_is_released_when_the_work_fails_and_not_by_someone_else(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tenancy.application.provisioning import Ledger
    from tenancy.common.errors import EventPublishError
    from tenancy.contracts.events import TenantLifecycleDetail
    from tenancy.contracts.publisher import EventPublisher

    onboarding = with_admin(lifecycle("TenantOnboarding", "PRO", "op-1", ONBOARDED_AT))

    def bus_down(self: EventPublisher, events: Any) -> None:
        raise EventPublishError("down")

    with monkeypatch.context() as patched:
        patched.setattr(EventPublisher, "publish", bus_down)
        failed = cloud.runtime.invoke("tenant_provisioner", onboarding, request_id="the-event")
    assert isinstance(failed.error, EventPublishError)
    assert "holder" not in ledger_item(cloud)  # a retry or a copy is not kept waiting
    assert provision(cloud, onboarding)["detail"]["status"] == "COMPLETED"

    ledger = Ledger(boto3.client("dynamodb"), cloud.settings.app_table_name)
    detail = TenantLifecycleDetail.model_validate(onboarding["detail"])
    assert ledger.claim("TenantOnboarding", detail, "holder-a", time.time() + 60) is None
    assert ledger.release(detail, "holder-b") is False  # only the holder ends its lease
    assert ledger_item(cloud)["holder"]["S"] == "holder-a"
    assert ledger.release(detail, "holder-a") is True
