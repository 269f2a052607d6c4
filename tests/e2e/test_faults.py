"""Fault tolerance, measured: tenants onboard and offboard through the local cloud (over HTTP, as a
user runs it) while functions die part-way, fail every second call, EventBridge rejects part of a
batch and every kind of event is duplicated and reordered. Each scenario asserts convergence:

- every tenant PROVISIONED, then (offboarded) DEPROVISIONED, and none left in a transient status;
- once provisioned: the route in SSM, one prefix marker, one silo stack (ENTERPRISE, created once),
  one admin user in Cognito (custom:tenantId) and one USER# item, the same user;
- once deprovisioned and the cloud quiet again (late duplicates delivered): none of it, the slug
  released;
- nothing in the functions' dead-letter queues.

Faults are injected over /_localcloud/faults (localcloud/faults.py). The figures (requests sent,
faults injected, tenants converged, time to converge) are printed at the end of the module and
written to .build/fault-suite.json; durations are reported, never asserted.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.credentials import Credentials

from localcloud.client import ControlPlaneClient, Response
from tenancy.control import keys
from tests.e2e.conftest import ROOT, RunningCloud, data_route, objects

FIGURES_FILE = ROOT / ".build" / "fault-suite.json"
STUCK_AFTER = (
    60.0  # seconds a phase may take before the suite calls a tenant stuck (never a timing assertion)
)
POOL_BUCKET = "tenancy-local-tenants"
POOL_TABLE = "tenancy-local-app"
CONTROL_TABLE = "tenancy-local-control"
TIERS = ("FREE", "PRO", "ENTERPRISE")
TRANSIENT = ("PENDING", "PROVISIONING", "OFFBOARDING", "DEPROVISIONING")


class CountingClient(ControlPlaneClient):
    """The control-plane client, counting the requests it sends."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url, Credentials("test", "test"))
        self.sent = 0
        self._lock = threading.Lock()

    def request(self, method: str, path: str, body: Any = None, **kw: Any) -> Response:
        with self._lock:
            self.sent += 1
        return super().request(method, path, body, **kw)


@dataclass
class Figures:
    scenario: str
    tenants: int = 0
    requests_sent: int = 0
    faults_injected: dict[str, int] = field(default_factory=dict)
    operator_retries: int = 0
    converged_provisioned: int = 0
    converged_deprovisioned: int = 0
    seconds_to_provision: float = 0.0
    seconds_to_deprovision: float = 0.0

    def line(self) -> str:
        faults = ", ".join(f"{k} {v}" for k, v in self.faults_injected.items() if k != "total")
        return (
            f"{self.scenario}: {self.requests_sent} requests, "
            f"{self.faults_injected.get('total', 0)} faults injected ({faults}), "
            f"{self.operator_retries} operator retries; converged {self.converged_provisioned}/{self.tenants} "
            f"PROVISIONED in {self.seconds_to_provision:.1f}s, "
            f"{self.converged_deprovisioned}/{self.tenants} DEPROVISIONED in {self.seconds_to_deprovision:.1f}s"
        )


RESULTS: list[Figures] = []


@pytest.fixture(scope="module", autouse=True)
def report(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if not RESULTS:
        return
    totals = Figures(
        "all scenarios",
        tenants=sum(f.tenants for f in RESULTS),
        requests_sent=sum(f.requests_sent for f in RESULTS),
        operator_retries=sum(f.operator_retries for f in RESULTS),
        converged_provisioned=sum(f.converged_provisioned for f in RESULTS),
        converged_deprovisioned=sum(f.converged_deprovisioned for f in RESULTS),
        seconds_to_provision=sum(f.seconds_to_provision for f in RESULTS),
        seconds_to_deprovision=sum(f.seconds_to_deprovision for f in RESULTS),
    )
    for figures in RESULTS:
        for kind, count in figures.faults_injected.items():
            totals.faults_injected[kind] = totals.faults_injected.get(kind, 0) + count
    FIGURES_FILE.parent.mkdir(parents=True, exist_ok=True)
    FIGURES_FILE.write_text(json.dumps([asdict(f) for f in [*RESULTS, totals]], indent=2) + "\n")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # to the terminal, not into the captured output
            reporter.write_line("")
            reporter.write_line(f"fault suite figures (also in {FIGURES_FILE.relative_to(ROOT)}):")
            for figures in [*RESULTS, totals]:
                reporter.write_line("  " + figures.line())


# --- the local cloud's fault endpoint -------------------------------------------------------------


def faults_endpoint(cloud: RunningCloud, method: str, rule: dict[str, Any] | None = None) -> Any:
    data = json.dumps(rule).encode() if rule is not None else None
    request = urllib.request.Request(cloud.api_url + "/_localcloud/faults", data=data, method=method)
    with urllib.request.urlopen(request) as reply:
        return json.loads(reply.read())


def add_faults(cloud: RunningCloud, *rules: dict[str, Any]) -> None:
    for rule in rules:
        faults_endpoint(cloud, "POST", rule)


def injected(cloud: RunningCloud) -> dict[str, int]:
    return faults_endpoint(cloud, "GET")["injected"]  # type: ignore[no-any-return]


def since(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before.get(k, 0) for k in after if after[k] - before.get(k, 0)}


# --- driving tenants ------------------------------------------------------------------------------


@dataclass
class Scenario:
    cloud: RunningCloud
    name: str
    specs: list[tuple[str, str]]  # (slug, tier)
    api: CountingClient = field(init=False)
    tenants: dict[str, dict[str, Any]] = field(default_factory=dict)  # tenantId -> as provisioned
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (slug, phase, error)
    figures: Figures = field(init=False)
    _faults_before: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.api = CountingClient(self.cloud.api_url)
        self.figures = Figures(self.name, tenants=len(self.specs))
        self._faults_before = injected(self.cloud)

    def onboard(self) -> None:
        started = time.monotonic()
        for slug, tier in self.specs:
            body = {"name": slug, "slug": slug, "tier": tier, "adminEmail": f"a@{slug}.example"}
            response = self.api.post("/tenants", body)
            assert response.status == 201, response.body
            self.tenants[response.body["data"]["tenantId"]] = response.body["data"]
        self.tenants = self.converge("PROVISIONED")
        self.figures.seconds_to_provision = round(time.monotonic() - started, 2)
        self.figures.converged_provisioned = len(self.tenants)

    def offboard(self) -> None:
        started = time.monotonic()
        for tenant_id in self.tenants:
            assert self.api.delete(f"/tenants/{tenant_id}").status == 202
        settled = self.converge("DEPROVISIONED")
        self.figures.seconds_to_deprovision = round(time.monotonic() - started, 2)
        self.figures.converged_deprovisioned = len(settled)

    def converge(self, target: str) -> dict[str, dict[str, Any]]:
        """Poll until every tenant reaches `target`, acting as an operator on FAILED ones (retry an
        onboarding, offboard again); fail naming the tenants still elsewhere after STUCK_AFTER."""
        pending, settled = set(self.tenants), {}
        deadline = time.monotonic() + STUCK_AFTER
        while pending and time.monotonic() < deadline:
            for tenant_id in sorted(pending):
                tenant = self.api.get(f"/tenants/{tenant_id}").body["data"]
                if tenant["provisioningStatus"] == target:
                    pending.discard(tenant_id)
                    settled[tenant_id] = tenant
                elif tenant["provisioningStatus"] == "FAILED":
                    self.failures.append((tenant["slug"], target, str(tenant["error"])))
                    self.figures.operator_retries += 1
                    if target == "PROVISIONED":
                        self.api.post(f"/tenants/{tenant_id}/retry")
                    else:
                        self.api.delete(f"/tenants/{tenant_id}")
            time.sleep(0.3)  # a sweep costs the cloud a request per tenant: leave it the CPU
        stuck = {t: self.api.get(f"/tenants/{t}").body["data"] for t in pending}
        assert not stuck, [(t["slug"], t["provisioningStatus"], t["error"]) for t in stuck.values()]
        return settled

    def finish(self) -> None:
        self.figures.requests_sent = self.api.sent
        self.figures.faults_injected = since(self._faults_before, injected(self.cloud))
        RESULTS.append(self.figures)


# --- what the cloud holds -------------------------------------------------------------------------


def stacks_of(cloud: RunningCloud, tenant_id: str) -> list[str]:
    """Every stack ever made for the tenant (deleted ones too), as statuses."""
    pages = cloud.aws("cloudformation").get_paginator("list_stacks").paginate()
    name = f"tenancy-local-tenant-{tenant_id}"
    return [s["StackStatus"] for page in pages for s in page["StackSummaries"] if s["StackName"] == name]


def cognito_users(cloud: RunningCloud) -> dict[str, list[dict[str, str]]]:
    """The user pool's users by custom:tenantId."""
    cognito = cloud.aws("cognito-idp")
    [pool] = [
        p for p in cognito.list_user_pools(MaxResults=60)["UserPools"] if p["Name"] == "tenancy-local-users"
    ]
    by_tenant: dict[str, list[dict[str, str]]] = {}
    for page in cognito.get_paginator("list_users").paginate(UserPoolId=pool["Id"]):
        for user in page["Users"]:
            attributes = {a["Name"]: a["Value"] for a in user["Attributes"]}
            attributes["username"] = user["Username"]
            by_tenant.setdefault(attributes.get("custom:tenantId", "-"), []).append(attributes)
    return by_tenant


def user_items(cloud: RunningCloud, table: str, tenant_id: str) -> list[dict[str, Any]]:
    if table not in cloud.aws("dynamodb").list_tables()["TableNames"]:
        return []
    return cloud.aws("dynamodb").query(  # type: ignore[no-any-return]
        TableName=table,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :user)",
        ExpressionAttributeValues={":pk": {"S": f"TENANT#{tenant_id}"}, ":user": {"S": "USER#"}},
    )["Items"]


def queue_depths(cloud: RunningCloud) -> dict[str, int]:
    sqs = cloud.aws("sqs")
    depths = {}
    for url in sqs.list_queues(QueueNamePrefix="tenancy-local-").get("QueueUrls", []):
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        depths[url.rsplit("/", 1)[-1]] = sum(int(v) for v in attributes.values())
    return depths


def quiet(cloud: RunningCloud, for_seconds: float) -> None:
    """Wait until no event waits in any function queue (delayed copies included) for `for_seconds`
    in a row, longer than the stream pump holds a record back (a stream fault's delay): late
    duplicates have all been delivered."""
    deadline = time.monotonic() + STUCK_AFTER
    calm_since = time.monotonic()
    busy: dict[str, int] = {}
    while time.monotonic() < deadline:
        busy = {q: n for q, n in queue_depths(cloud).items() if n and not q.endswith("-dlq")}
        if busy:
            calm_since = time.monotonic()
        elif time.monotonic() - calm_since >= for_seconds:
            return
        time.sleep(0.3)
    raise AssertionError(f"the function queues never drained: {busy}")


def assert_provisioned(
    cloud: RunningCloud, tenants: dict[str, dict[str, Any]], stacks_deleted_before: int = 0
) -> None:
    """`stacks_deleted_before`: silo stacks an earlier offboarding of the tenant deleted."""
    users = cognito_users(cloud)
    for tenant_id, tenant in tenants.items():
        slug, prefix = tenant["slug"], f"tenants/{tenant_id}/"
        assert tenant["error"] is None, slug
        found = data_route(cloud, tenant_id)
        if tenant["tier"] == "ENTERPRISE":
            bucket, table = tenant["resources"]["dedicatedBucket"], tenant["resources"]["dedicatedTable"]
            assert found == {
                "isolation": "silo",
                "dynamodb/table-name": table,
                "s3/bucket": bucket,
                "s3/prefix": prefix,
            }
            stacks = sorted(stacks_of(cloud, tenant_id))  # one stack, created once, and nothing else
            assert stacks == ["CREATE_COMPLETE"] + ["DELETE_COMPLETE"] * stacks_deleted_before, slug
            assert objects(cloud, POOL_BUCKET, prefix) == [], slug
        else:
            bucket, table = POOL_BUCKET, POOL_TABLE
            assert found == {
                "isolation": "pool",
                "dynamodb/table-name": table,
                "s3/bucket": bucket,
                "s3/prefix": prefix,
            }
            assert stacks_of(cloud, tenant_id) == [], slug
        assert tenant["resources"]["s3Prefix"] == prefix
        assert objects(cloud, bucket, prefix) == [prefix + ".tenant.json"], slug
        [admin] = users.get(tenant_id, [None])  # exactly one user, the admin
        assert admin is not None, f"{slug} has no admin user"
        assert (admin["email"], admin["custom:role"]) == (f"a@{slug}.example", "admin"), slug
        [item] = user_items(cloud, table, tenant_id)
        assert (item["userId"]["S"], item["role"]["S"]) == (admin["username"], "admin"), slug


def assert_deprovisioned(
    cloud: RunningCloud, tenants: dict[str, dict[str, Any]], stacks_deleted_before: int = 0
) -> None:
    users = cognito_users(cloud)
    tables = cloud.aws("dynamodb").list_tables()["TableNames"]
    buckets = [b["Name"] for b in cloud.aws("s3").list_buckets()["Buckets"]]
    for tenant_id, tenant in tenants.items():
        slug, prefix = tenant["slug"], f"tenants/{tenant_id}/"
        assert data_route(cloud, tenant_id) == {}, slug
        assert objects(cloud, POOL_BUCKET, prefix) == [], slug
        assert users.get(tenant_id, []) == [], slug
        assert user_items(cloud, POOL_TABLE, tenant_id) == [], slug
        if tenant["tier"] == "ENTERPRISE":
            stacks = stacks_of(cloud, tenant_id)  # the one stack, deleted, and nothing else
            assert stacks == ["DELETE_COMPLETE"] * (1 + stacks_deleted_before), slug
            assert tenant["resources"]["dedicatedTable"] not in tables, slug
            assert tenant["resources"]["dedicatedBucket"] not in buckets, slug
        else:
            assert stacks_of(cloud, tenant_id) == [], slug
        slug_item = cloud.aws("dynamodb").get_item(
            TableName=CONTROL_TABLE, Key={k: {"S": v} for k, v in keys.slug_key(slug).items()}
        )
        assert "Item" not in slug_item, f"{slug} was not released"


def assert_nothing_dead_lettered(cloud: RunningCloud) -> None:
    dead = {q: n for q, n in queue_depths(cloud).items() if q.endswith("-dlq") and n}
    assert dead == {}


def assert_nothing_transient(api: ControlPlaneClient) -> None:
    for status in TRANSIENT:
        assert api.get(f"/tenants?status={status}&limit=100").body["data"] == [], status


def run(scenario: Scenario, offboarding_faults: list[dict[str, Any]], quiet_seconds: float) -> None:
    """Onboard, check, offboard at once (late duplicates of the onboarding still on their way), wait
    until the cloud is quiet, check that nothing came back."""
    cloud = scenario.cloud
    scenario.onboard()
    assert_provisioned(cloud, scenario.tenants)
    add_faults(cloud, *offboarding_faults)
    scenario.offboard()
    quiet(cloud, quiet_seconds)
    assert_deprovisioned(cloud, scenario.tenants)
    assert_nothing_dead_lettered(cloud)
    assert_nothing_transient(scenario.api)
    scenario.finish()


# --- the scenarios --------------------------------------------------------------------------------


@pytest.fixture
def clean_faults(cloud: RunningCloud) -> Iterator[None]:
    faults_endpoint(cloud, "DELETE")
    yield
    faults_endpoint(cloud, "DELETE")


def crash_after(function: str, match: str, service: str, operation: str, times: int = 1) -> dict[str, Any]:
    return {
        "function": function,
        "match": match,
        "kind": "crash-after",
        "service": service,
        "operation": operation,
        "times": times,
    }


def crash_before(function: str, match: str, service: str, operation: str) -> dict[str, Any]:
    return {"function": function, "match": match, "kind": "crash", "service": service, "operation": operation}


# Where each tenant's functions die, onboarding and offboarding (slug: (tier, onboarding, offboarding)).
PART_WAY = {
    # the pool prefix is claimed, then the provisioner dies (before the route, the admin, the result)
    "dies-prefix": ("FREE", ("s3", "PutObject", "after"), ("s3", "DeleteObjects", "after")),
    # one route parameter written, then it dies
    "dies-route": ("PRO", ("ssm", "PutParameter", "after"), ("ssm", "DeleteParameters", "after")),
    # the silo stack is created, then it dies
    "dies-stack": (
        "ENTERPRISE",
        ("cloudformation", "CreateStack", "after"),
        ("cloudformation", "DeleteStack", "after"),
    ),
    # the silo stack is complete and its marker written, then it dies
    "dies-marker": ("ENTERPRISE", ("s3", "PutObject", "after"), ("ssm", "DeleteParameters", "after")),
    # the admin's USER# item is written, then it dies before Cognito
    "dies-useritem": (
        "FREE",
        ("dynamodb", "TransactWriteItems", "after"),
        ("dynamodb", "BatchWriteItem", "after"),
    ),
    # the admin exists in Cognito, then it dies
    "dies-admin": (
        "PRO",
        ("cognito-idp", "AdminCreateUser", "after"),
        ("cognito-idp", "AdminDeleteUser", "after"),
    ),
    # everything is done, then it dies before publishing the result
    "dies-publish": ("ENTERPRISE", ("events", "PutEvents", "before"), ("events", "PutEvents", "before")),
}


def part_way_rules(phase: int) -> list[dict[str, Any]]:
    rules = []
    for slug, spec in PART_WAY.items():
        service, operation, when = spec[phase]
        make = crash_after if when == "after" else crash_before
        rules.append(make("tenant_provisioner", slug, service, operation))
    return [
        *rules,
        # the stream handler publishes the request, then dies before the record is acknowledged
        crash_after("provisioning", "dies-stream", "events", "PutEvents"),
        # the completion writes the new status, then dies (for offboarding: before releasing the slug)
        crash_after("provisioning_completion", "", "dynamodb", "UpdateItem", times=3),
    ]


def test_functions_dying_part_way_converge_on_redelivery_without_duplicates(
    cloud: RunningCloud, clean_faults: None
) -> None:
    specs = [(slug, spec[0]) for slug, spec in PART_WAY.items()] + [("dies-stream", "PRO")]
    scenario = Scenario(cloud, "dies part-way", specs)
    add_faults(cloud, *part_way_rules(1))
    scenario.onboard()
    assert faults_endpoint(cloud, "GET")["faults"] == []  # every part-way death happened
    assert_provisioned(cloud, scenario.tenants)
    add_faults(cloud, *part_way_rules(2))
    scenario.offboard()
    assert faults_endpoint(cloud, "GET")["faults"] == []
    quiet(cloud, 1.0)
    assert_deprovisioned(cloud, scenario.tenants)
    assert_nothing_dead_lettered(cloud)
    assert_nothing_transient(scenario.api)
    # the redeliveries alone converged: no tenant ever showed FAILED
    assert scenario.failures == []
    scenario.finish()
    assert scenario.figures.faults_injected == {
        "total": 2 * (len(PART_WAY) + 4),
        "crash": 2,
        "crash-after": 20,
    }


def flaky_rules(match: str, **rate: Any) -> list[dict[str, Any]]:
    """A provisioner failing every second call (or at `rate`; onboarding: claiming the prefix;
    offboarding: removing the route), and EventBridge rejecting every second PutEvents in part."""
    rate = rate or {"every": 2}
    return [
        {
            "function": "tenant_provisioner",
            "match": match,
            "service": "s3",
            "operation": "PutObject",
            "times": None,
            **rate,
        },
        {
            "function": "tenant_provisioner",
            "match": match,
            "service": "ssm",
            "operation": "DeleteParameters",
            "times": None,
            **rate,
        },
        {
            "function": "*",
            "match": match,
            "kind": "partial",
            "service": "events",
            "operation": "PutEvents",
            "every": 2,
            "times": None,
            "code": "ThrottlingException",
        },
    ]


def test_a_provisioner_failing_every_second_call_and_partial_put_events_converge(
    cloud: RunningCloud, clean_faults: None
) -> None:
    specs = [(f"flaky-{i:02d}", TIERS[i % 3]) for i in range(6)]
    scenario = Scenario(cloud, "every 2nd call fails + partial PutEvents", specs)
    add_faults(cloud, *flaky_rules("flaky-"))
    run(scenario, [], quiet_seconds=1.0)
    faults = scenario.figures.faults_injected
    assert faults.get("error", 0) >= len(specs), faults  # every second of at least 2 calls per tenant
    assert faults.get("partial", 0) >= 2, faults
    # every injected provisioner error became a FAILED result with its error, and was retried
    assert scenario.failures
    assert all("injected by the local cloud" in error for _, _, error in scenario.failures)


def test_duplicated_and_reordered_deliveries_of_every_event_type_amid_all_of_the_above(
    cloud: RunningCloud, clean_faults: None
) -> None:
    specs = [(f"chaos-{i:02d}", TIERS[i % 3]) for i in range(6)]
    scenario = Scenario(cloud, "all faults + duplicated/reordered deliveries", specs)
    add_faults(
        cloud,
        # Failing every second call here would fail one of each duplicated request's two runs in
        # lockstep, and the failed run's result often lands first; a seeded quarter of the calls
        # keeps the retries few.
        *flaky_rules("chaos-", probability=0.25, seed=1),
        crash_after("tenant_provisioner", "chaos-00", "s3", "PutObject"),
        crash_after("tenant_provisioner", "chaos-02", "cloudformation", "CreateStack"),
        crash_after("tenant_provisioner", "chaos-04", "cognito-idp", "AdminCreateUser"),
        crash_after("provisioning", "chaos-05", "events", "PutEvents"),
        crash_after("provisioning_completion", "", "dynamodb", "UpdateItem", times=2),
        # every event type, on every trigger: delivered twice (the copy 1 s later; a TenantOnboarding's
        # 8 s later, when its tenant is likely offboarding already), and every third delivery held
        # back a second (after the events behind it)
        {"function": "*", "match": "TenantOnboarding", "kind": "duplicate", "delay": 8, "times": None},
        {"function": "*", "kind": "duplicate", "delay": 1, "times": None},
        {"function": "*", "kind": "reorder", "delay": 1, "every": 3, "times": None},
    )
    offboarding = [
        crash_after("tenant_provisioner", "chaos-02", "cloudformation", "DeleteStack"),
        crash_after("tenant_provisioner", "chaos-03", "s3", "DeleteObjects"),
        crash_after("provisioning_completion", "", "dynamodb", "UpdateItem", times=2),
    ]
    run(scenario, offboarding, quiet_seconds=1.5)
    faults = scenario.figures.faults_injected
    assert faults.get("duplicate", 0) >= 4 * len(specs), faults  # each tenant's four event types at least
    assert faults.get("reorder", 0) >= len(specs), faults


# --- stale requests: a lifecycle request delivered after its tenant has moved on -----------------


def iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def operation_of(cloud: RunningCloud, tenant_id: str) -> str:
    item = cloud.aws("dynamodb").get_item(
        TableName=CONTROL_TABLE, Key={k: {"S": v} for k, v in keys.tenant_key(tenant_id).items()}
    )["Item"]
    return str(item["operationId"]["S"])


def redeliver(cloud: RunningCloud, detail_type: str, tenant: dict[str, Any], operation: str, at: str) -> None:
    """Put a lifecycle request on the bus again, as EventBridge redelivers one: the operation and the
    time it was requested, long after."""
    detail = {
        "tenantId": tenant["tenantId"],
        "tenantName": tenant["name"],
        "tier": tenant["tier"],
        "slug": tenant["slug"],
        "adminEmail": f"a@{tenant['slug']}.example",
        "timestamp": at,
        "operationId": operation,
    }
    entry = {
        "EventBusName": "tenancy-local-bus",
        "Source": "tenancy.control-plane",
        "DetailType": detail_type,
        "Detail": json.dumps(detail),
    }
    assert cloud.aws("events").put_events(Entries=[entry])["FailedEntryCount"] == 0


def test_requests_redelivered_after_their_tenant_moved_on_change_nothing(
    cloud: RunningCloud, clean_faults: None
) -> None:
    """A TenantOnboarding arriving after its tenant was offboarded must not bring its resources back;
    a TenantOffboarding of a failed offboarding, arriving after the tenant was onboarded again, must
    not take the live tenant's resources away."""
    specs = [(f"stale-{tier.lower()}", tier) for tier in TIERS]
    scenario = Scenario(cloud, "stale requests redelivered", specs)
    scenario.onboard()
    onboarding = {t: (operation_of(cloud, t), tenant["createdAt"]) for t, tenant in scenario.tenants.items()}
    scenario.offboard()
    for tenant_id, tenant in scenario.tenants.items():
        redeliver(cloud, "TenantOnboarding", tenant, *onboarding[tenant_id])
    quiet(cloud, 1.0)
    assert_deprovisioned(cloud, scenario.tenants)

    again = Scenario(
        cloud, "stale requests redelivered (live tenants)", [(f"relive-{t.lower()}", t) for t in TIERS]
    )
    again.onboard()
    add_faults(
        cloud,
        {
            "function": "tenant_provisioner",
            "match": "relive-",
            "service": "ssm",
            "operation": "DeleteParameters",
            "times": 3,
        },
    )
    requested = iso_now()
    for tenant_id in again.tenants:
        assert again.api.delete(f"/tenants/{tenant_id}").status == 202
    offboarding = {}
    for tenant_id in again.tenants:
        failed = wait_status(again.api, tenant_id, "FAILED")
        offboarding[tenant_id] = operation_of(cloud, tenant_id)
        assert "DeleteParameters" in failed["error"]
        assert again.api.post(f"/tenants/{tenant_id}/retry").status == 202  # the operator onboards it again
    again.tenants = again.converge("PROVISIONED")
    for tenant_id, tenant in again.tenants.items():
        redeliver(cloud, "TenantOffboarding", tenant, offboarding[tenant_id], requested)
    quiet(cloud, 1.0)
    assert_provisioned(cloud, again.tenants, stacks_deleted_before=1)
    again.offboard()  # and the ledger lets the tenants' next, current, offboarding through
    quiet(cloud, 1.0)
    assert_deprovisioned(cloud, again.tenants, stacks_deleted_before=1)
    assert_nothing_dead_lettered(cloud)
    assert_nothing_transient(scenario.api)
    scenario.api.sent += again.api.sent
    for name in ("tenants", "converged_provisioned", "converged_deprovisioned", "operator_retries"):
        setattr(scenario.figures, name, getattr(scenario.figures, name) + getattr(again.figures, name))
    scenario.figures.operator_retries += len(again.tenants)  # the deliberate retries after FAILED
    scenario.figures.seconds_to_provision += again.figures.seconds_to_provision
    scenario.figures.seconds_to_deprovision += again.figures.seconds_to_deprovision
    scenario.finish()


def wait_status(api: ControlPlaneClient, tenant_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + STUCK_AFTER
    while time.monotonic() < deadline:
        tenant = api.get(f"/tenants/{tenant_id}").body["data"]
        if tenant["provisioningStatus"] == status:
            return tenant  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"{tenant_id} never reached {status}")
