"""Least privilege: what each function's role may do, and what the silo stack role may do."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tenancy_infra.stacks.grants import tenant_access_trusted
from tenancy_infra.topology import FUNCTIONS, Access, ApiRoute, ApiTrigger, FunctionSpec
from tests.infrastructure.synth import APP_NAME, STAGE, Synthesized

SILO_PREFIX = f"{APP_NAME}-{STAGE}-tenant-"
ITEM_ACTIONS = {
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def flat(value: Any) -> str:
    """A resource/condition value as text, intrinsics included (for substring checks)."""
    return json.dumps(value, sort_keys=True)


def statements(synthesized: Synthesized, function: str) -> list[dict[str, Any]]:
    """Every Allow statement attached to the function's execution role."""
    role_id = synthesized.logical_id(synthesized.stack.roles[function])
    found = []
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            found += policy["Properties"]["PolicyDocument"]["Statement"]
    role = synthesized.template["Resources"][role_id]["Properties"]
    assert "ManagedPolicyArns" not in role, f"{function} must not use AWS managed policies"
    assert "Policies" not in role
    return found


def grants(synthesized: Synthesized, function: str) -> set[tuple[str, str]]:
    """(action, resource) pairs the function's role is allowed."""
    return {
        (action, flat(resource))
        for statement in statements(synthesized, function)
        if statement["Effect"] == "Allow"
        for action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    }


def actions_on(synthesized: Synthesized, function: str, resource: Any) -> set[str]:
    return {action for action, on in grants(synthesized, function) if on == flat(resource)}


def arn_of(synthesized: Synthesized, construct: Any) -> dict[str, Any]:
    return {"Fn::GetAtt": [synthesized.logical_id(construct), "Arn"]}


def statement_by_sid(synthesized: Synthesized, function: str, sid: str) -> dict[str, Any]:
    [statement] = [s for s in statements(synthesized, function) if s.get("Sid") == sid]
    return statement


def test_no_role_may_scan_a_table(synthesized: Synthesized) -> None:
    for policy_id, policy in synthesized.resources("AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = as_list(statement["Action"])
            assert not {"dynamodb:Scan", "dynamodb:*"} & set(actions), policy_id
    # Nor through an inline role policy or anywhere else in the template.
    assert "dynamodb:Scan" not in json.dumps(synthesized.template)
    assert '"dynamodb:*"' not in json.dumps(synthesized.template)


@pytest.mark.parametrize("function", ["tenant_api", "provisioning", "provisioning_completion", "reconciler"])
def test_control_plane_functions_read_and_write_only_the_control_table(
    synthesized: Synthesized, function: str
) -> None:
    stack = synthesized.stack
    control = arn_of(synthesized, stack.control_table)
    control_indexes = {"Fn::Join": ["", [control, "/index/*"]]}
    assert actions_on(synthesized, function, control) == ITEM_ACTIONS
    assert actions_on(synthesized, function, control_indexes) == ITEM_ACTIONS
    app_table_id = synthesized.logical_id(stack.app_table)
    assert not [grant for grant in grants(synthesized, function) if app_table_id in grant[1]]
    assert not [
        g for g in grants(synthesized, function) if g[0].startswith(("s3:", "ssm:", "cloudformation:"))
    ]


def test_only_the_control_api_keeps_idempotency_records_and_only_item_by_item(
    synthesized: Synthesized,
) -> None:
    table = synthesized.logical_id(synthesized.stack.idempotency_table)
    for function in synthesized.stack.functions:
        actions = {action for action, on in grants(synthesized, function) if table in on}
        if function == "tenant_api":
            assert actions == {
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
            }
        else:
            assert not actions, function


def test_only_the_control_api_reads_the_usage_table_and_nothing_writes_it_as_itself(
    synthesized: Synthesized,
) -> None:
    """The app API writes the usage table only as the tenant (the tenant-access role's TenantUsage
    statement); no execution role may write it, and only the control API may read it."""
    table = synthesized.logical_id(synthesized.stack.usage_table)
    for function in synthesized.stack.functions:
        actions = {action for action, on in grants(synthesized, function) if table in on}
        if function == "tenant_api":
            assert actions == {"dynamodb:GetItem", "dynamodb:Query"}
        else:
            assert not actions, function


def test_only_the_event_publishers_may_put_events_and_only_on_the_bus(synthesized: Synthesized) -> None:
    bus = arn_of(synthesized, synthesized.stack.event_bus)
    for function in synthesized.stack.functions:
        puts = {on for action, on in grants(synthesized, function) if action == "events:PutEvents"}
        if function in ("provisioning", "tenant_provisioner", "reconciler"):
            assert puts == {flat(bus)}, function
        else:
            assert not puts, function


def test_stream_consumer_reads_only_the_control_table_stream(synthesized: Synthesized) -> None:
    stream = {"Fn::GetAtt": [synthesized.logical_id(synthesized.stack.control_table), "StreamArn"]}
    assert actions_on(synthesized, "provisioning", stream) == {
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
    }
    for function in ("tenant_api", "tenant_provisioner", "provisioning_completion", "reconciler"):
        assert not actions_on(synthesized, function, stream)
    for function in set(synthesized.stack.functions) - {"provisioning"}:
        assert not actions_on(synthesized, function, stream), function


@pytest.mark.parametrize("function", [spec.name for spec in FUNCTIONS])
def test_each_function_writes_only_its_own_log_group(synthesized: Synthesized, function: str) -> None:
    log_writes = {on for action, on in grants(synthesized, function) if action.startswith("logs:")}
    properties = synthesized.template["Resources"][
        synthesized.logical_id(synthesized.stack.functions[function])
    ]["Properties"]
    own = {"Fn::GetAtt": [properties["LoggingConfig"]["LogGroup"]["Ref"], "Arn"]}
    assert log_writes == {flat(own)}
    assert actions_on(synthesized, function, own) == {"logs:CreateLogStream", "logs:PutLogEvents"}


def test_provisioner_purges_pool_tenants_in_the_app_table_and_the_tenants_prefix(
    synthesized: Synthesized,
) -> None:
    stack = synthesized.stack
    app_table = arn_of(synthesized, stack.app_table)
    assert {"dynamodb:Query", "dynamodb:BatchWriteItem"} <= actions_on(
        synthesized, "tenant_provisioner", app_table
    )
    control = arn_of(synthesized, stack.control_table)
    assert not actions_on(synthesized, "tenant_provisioner", control)
    bucket = arn_of(synthesized, stack.tenant_bucket)
    prefix = {"Fn::Join": ["", [bucket, "/tenants/*"]]}
    object_actions = actions_on(synthesized, "tenant_provisioner", prefix)
    assert {"s3:PutObject", "s3:DeleteObject*", "s3:GetObject*"} <= object_actions
    # Objects outside tenants/ are out of reach.
    assert not actions_on(synthesized, "tenant_provisioner", {"Fn::Join": ["", [bucket, "/*"]]})


def test_provisioner_manages_tenant_routes_in_ssm_under_the_app_path_only(synthesized: Synthesized) -> None:
    statement = statement_by_sid(synthesized, "tenant_provisioner", "TenantRoutes")
    assert set(statement["Action"]) == {
        "ssm:PutParameter",
        "ssm:DeleteParameter",
        "ssm:DeleteParameters",
        "ssm:GetParametersByPath",
    }
    resource = flat(statement["Resource"])
    assert ":ssm:" in resource
    assert f":parameter/{APP_NAME}/{STAGE}/tenants/*" in resource


def test_tenant_updates_keeps_only_the_discovery_parameters_of_tenants(synthesized: Synthesized) -> None:
    """By name: provisioning-status, provisioning-error, tier, config and state of any tenant; never
    the routes beside them, nothing by path, nothing else."""
    statement = statement_by_sid(synthesized, "tenant_updates", "TenantDiscovery")
    assert set(statement["Action"]) == {
        "ssm:GetParameters",
        "ssm:GetParameterHistory",
        "ssm:PutParameter",
        "ssm:DeleteParameter",
    }
    resources = sorted(flat(resource) for resource in statement["Resource"])
    names = sorted(("provisioning-status", "provisioning-error", "tier", "config", "state"))
    assert [resource.rsplit("/", 1)[1] for resource in resources] == [f'{name}"]]}}' for name in names]
    for resource in resources:
        assert f":parameter/{APP_NAME}/{STAGE}/tenants/*/" in resource, resource
    ssm_actions = {action for action, _ in grants(synthesized, "tenant_updates") if action.startswith("ssm:")}
    assert ssm_actions == set(statement["Action"])
    assert (
        not {action for action, _ in grants(synthesized, "tenant_updates")}
        - ssm_actions
        - {
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords",
            # its failure destination (the DLQ of events still failing after the async retries)
            "sqs:SendMessage",
            "sqs:GetQueueAttributes",
            "sqs:GetQueueUrl",
        }
    )


def test_provisioner_creates_silo_stacks_only_with_the_silo_role(synthesized: Synthesized) -> None:
    silo_role = arn_of(synthesized, synthesized.stack.silo_stack_role)
    create = statement_by_sid(synthesized, "tenant_provisioner", "CreateSiloStacks")
    assert create["Action"] == "cloudformation:CreateStack"
    assert create["Condition"] == {"StringEquals": {"cloudformation:RoleArn": silo_role}}
    manage = statement_by_sid(synthesized, "tenant_provisioner", "ManageSiloStacks")
    assert {
        "cloudformation:DescribeStacks",
        "cloudformation:DeleteStack",
        "cloudformation:DescribeStackEvents",
    } <= set(manage["Action"])
    for statement in (create, manage):
        assert f":stack/{SILO_PREFIX}*/*" in flat(statement["Resource"])
    passing = statement_by_sid(synthesized, "tenant_provisioner", "PassSiloStackRole")
    assert passing["Action"] == "iam:PassRole"
    assert passing["Resource"] == silo_role
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}}


def test_provisioner_empties_silo_buckets_only(synthesized: Synthesized) -> None:
    listing = statement_by_sid(synthesized, "tenant_provisioner", "SiloBucketListing")
    objects = statement_by_sid(synthesized, "tenant_provisioner", "SiloBucketObjects")
    assert set(listing["Action"]) == {"s3:ListBucket", "s3:ListBucketVersions"}
    assert flat(listing["Resource"]).endswith(f':s3:::{SILO_PREFIX}*"]]}}')
    assert set(objects["Action"]) == {"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"}
    assert flat(objects["Resource"]).endswith(f':s3:::{SILO_PREFIX}*/*"]]}}')


def test_provisioner_reads_exactly_the_silo_template_object(synthesized: Synthesized) -> None:
    statement = statement_by_sid(synthesized, "tenant_provisioner", "ReadSiloTemplate")
    assert statement["Action"] == "s3:GetObject"
    resource = flat(statement["Resource"])
    assert f"/{synthesized.stack.silo_template.asset_hash}.json" in resource
    assert "*" not in resource


def test_silo_stack_role_is_for_cloudformation_and_scoped_to_silo_names(synthesized: Synthesized) -> None:
    role_id = synthesized.logical_id(synthesized.stack.silo_stack_role)
    role = synthesized.template["Resources"][role_id]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "cloudformation.amazonaws.com"}
    assert "ManagedPolicyArns" not in role
    [policy] = [
        p["Properties"]
        for p in synthesized.resources("AWS::IAM::Policy").values()
        if p["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    by_sid = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert set(by_sid) == {"SiloBuckets", "SiloTables"}
    buckets, tables = by_sid["SiloBuckets"], by_sid["SiloTables"]
    assert {
        "s3:CreateBucket",
        "s3:DeleteBucket",
        "s3:PutBucketPolicy",
        "s3:PutEncryptionConfiguration",
    } <= set(buckets["Action"])
    assert all(action.startswith("s3:") and "*" not in action for action in buckets["Action"])
    assert flat(buckets["Resource"]).endswith(f':s3:::{SILO_PREFIX}*"]]}}')
    assert {"dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:UpdateTimeToLive"} <= set(
        tables["Action"]
    )
    assert all(action.startswith("dynamodb:") and "*" not in action for action in tables["Action"])
    assert not {"dynamodb:Scan", "dynamodb:GetItem", "dynamodb:Query"} & set(tables["Action"])
    assert flat(tables["Resource"]).endswith(f':table/{SILO_PREFIX}*"]]}}')


def test_silo_name_prefix_cannot_match_the_shared_resources(synthesized: Synthesized) -> None:
    """Shared tables are named `<app>-<stage>-control|app`; generated bucket names start with
    `<app>-<stage>-<logicalid>`: none may fall under the silo `<app>-<stage>-tenant-*` grants."""
    for table in synthesized.resources("AWS::DynamoDB::Table").values():
        assert not table["Properties"]["TableName"].startswith(SILO_PREFIX)
    for logical_id in synthesized.resources("AWS::S3::Bucket"):
        assert not f"{APP_NAME}-{STAGE}-{logical_id.lower()}".startswith(SILO_PREFIX), logical_id


# --- the topology's access declarations are what the roles get ------------------------------


def granted_access(synthesized: Synthesized, function: str) -> set[Access]:
    """Which topology Access the function's role evidently holds (one piece of evidence each)."""
    stack = synthesized.stack
    actions = {action for action, _ in grants(synthesized, function)}
    sids = {statement.get("Sid") for statement in statements(synthesized, function)}
    idempotency = synthesized.logical_id(stack.idempotency_table)
    pool_objects = {"Fn::Join": ["", [arn_of(synthesized, stack.tenant_bucket), "/tenants/*"]]}
    evidence = {
        Access.CONTROL_TABLE_READ_WRITE: actions_on(
            synthesized, function, arn_of(synthesized, stack.control_table)
        )
        == ITEM_ACTIONS,
        Access.CONTROL_TABLE_GET_ITEM: "ReadTenantStatus" in sids,
        Access.IDEMPOTENCY_RECORDS: any(idempotency in on for _, on in grants(synthesized, function)),
        Access.USAGE_TABLE_READ: actions_on(synthesized, function, arn_of(synthesized, stack.usage_table))
        == {"dynamodb:GetItem", "dynamodb:Query"},
        Access.APP_TABLE_READ_WRITE: actions_on(synthesized, function, arn_of(synthesized, stack.app_table))
        == ITEM_ACTIONS,
        Access.EVENTS_PUT: "events:PutEvents" in actions,
        Access.TENANT_DATA_AS_TENANT: {"AssumeTenantAccessRole", "ReadTenantRoutes"} <= sids,
        Access.TENANT_USERS_MANAGE: "cognito-idp:AdminUpdateUserAttributes" in actions,
        Access.TENANT_USERS_CREATE_DELETE: "ManageTenantUsers" in sids
        and "cognito-idp:AdminUpdateUserAttributes" not in actions,
        Access.POOL_BUCKET_TENANT_OBJECTS: bool(actions_on(synthesized, function, pool_objects)),
        Access.SILO_TABLE_ITEMS: "SiloTableItems" in sids,
        Access.TENANT_ROUTES_WRITE: "TenantRoutes" in sids,
        Access.TENANT_DISCOVERY_WRITE: "TenantDiscovery" in sids,
        Access.TENANT_SECRETS_DELETE: {"ListTenantSecrets", "DeleteTenantSecrets"} <= sids,
        Access.SILO_STACKS: {"CreateSiloStacks", "ManageSiloStacks", "PassSiloStackRole"} <= sids,
        Access.SILO_BUCKETS_EMPTY: {"SiloBucketListing", "SiloBucketObjects"} <= sids,
        Access.SILO_TEMPLATE_READ: "ReadSiloTemplate" in sids,
        Access.CARD_EXECUTOR_INVOKE: "lambda:InvokeFunction" in actions,
    }
    assert set(evidence) == set(Access), "every Access needs its evidence here"
    return {access for access, seen in evidence.items() if seen}


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda spec: spec.name)
def test_each_role_holds_exactly_the_access_its_function_declares(
    synthesized: Synthesized, spec: FunctionSpec
) -> None:
    assert granted_access(synthesized, spec.name) == set(spec.access)


def test_the_tenant_access_role_trusts_exactly_the_functions_declaring_tenant_data(
    synthesized: Synthesized,
) -> None:
    trust = resource_properties(synthesized, synthesized.stack.tenant_access_role)["AssumeRolePolicyDocument"]
    [statement] = trust["Statement"]
    declared = [spec.name for spec in FUNCTIONS if Access.TENANT_DATA_AS_TENANT in spec.access]
    assert declared
    assert sorted(map(flat, as_list(statement["Principal"]["AWS"]))) == sorted(
        flat(arn_of(synthesized, synthesized.stack.roles[name])) for name in declared
    )


def test_tenant_data_access_and_the_role_arn_variable_go_together(monkeypatch: pytest.MonkeyPatch) -> None:
    from tenancy_infra.stacks import grants

    trigger = ApiTrigger(api="app", routes=(ApiRoute("GET", "/x"),))
    for spec in (
        FunctionSpec("reads_the_arn", "", trigger, environment=("TENANT_ACCESS_ROLE_ARN",)),
        FunctionSpec("declares_the_access", "", trigger, access=(Access.TENANT_DATA_AS_TENANT,)),
    ):
        monkeypatch.setattr(grants, "FUNCTIONS", (spec,))
        with pytest.raises(ValueError, match="go together"):
            tenant_access_trusted({})


def resource_properties(synthesized: Synthesized, construct: Any) -> dict[str, Any]:
    return synthesized.template["Resources"][synthesized.logical_id(construct)]["Properties"]  # type: ignore[no-any-return]


# --- tenant secrets (tenancy.application.secrets) ------------------------------------------------

PRINCIPAL_TENANT = "${aws:PrincipalTag/TenantId}"


def secret_arn(path: str) -> dict[str, Any]:
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":secretsmanager:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":secret:/{APP_NAME}/{STAGE}/tenants/{path}",
            ],
        ]
    }


def tenant_access_statements(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    role_id = synthesized.logical_id(synthesized.stack.tenant_access_role)
    found: dict[str, dict[str, Any]] = {}
    for policy in synthesized.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            found |= {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    return found


def test_tenant_access_creates_secrets_only_under_its_path_and_tagged_with_its_tenant(
    synthesized: Synthesized,
) -> None:
    assert tenant_access_statements(synthesized)["CreateTenantSecrets"] == {
        "Sid": "CreateTenantSecrets",
        "Effect": "Allow",
        "Action": ["secretsmanager:CreateSecret", "secretsmanager:TagResource"],
        "Resource": secret_arn(f"{PRINCIPAL_TENANT}/*"),
        "Condition": {
            "StringEquals": {"aws:RequestTag/TenantId": PRINCIPAL_TENANT},
            "ForAllValues:StringEquals": {"aws:TagKeys": ["TenantId", "Application", "Stage"]},
        },
    }


def test_tenant_access_reaches_only_its_tenants_tagged_secrets(synthesized: Synthesized) -> None:
    assert tenant_access_statements(synthesized)["TenantSecrets"] == {
        "Sid": "TenantSecrets",
        "Effect": "Allow",
        "Action": [
            "secretsmanager:DeleteSecret",
            "secretsmanager:GetSecretValue",
            "secretsmanager:RestoreSecret",
            "secretsmanager:UpdateSecret",
        ],
        "Resource": secret_arn(f"{PRINCIPAL_TENANT}/*"),
        "Condition": {"StringEquals": {"secretsmanager:ResourceTag/TenantId": PRINCIPAL_TENANT}},
    }


def test_tenant_access_uses_the_secrets_key_only_through_secrets_manager_for_its_secrets(
    synthesized: Synthesized,
) -> None:
    key = arn_of(synthesized, synthesized.stack.secrets_key)
    assert tenant_access_statements(synthesized)["TenantSecretsKey"] == {
        "Sid": "TenantSecretsKey",
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": key,
        "Condition": {
            "StringEquals": {
                "kms:ViaService": {
                    "Fn::Join": ["", ["secretsmanager.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]
                }
            },
            "StringLike": {"kms:EncryptionContext:SecretARN": secret_arn(f"{PRINCIPAL_TENANT}/*")},
        },
    }


def test_no_tenant_scoped_role_may_list_every_secret(synthesized: Synthesized) -> None:
    """ListSecrets cannot be limited to one tenant: only the provisioner holds it (offboarding)."""
    document = json.dumps(tenant_access_statements(synthesized))
    assert "secretsmanager:ListSecrets" not in document
    assert "secretsmanager:*" not in document
    assert "PutResourcePolicy" not in document
    holders = [
        spec.name
        for spec in FUNCTIONS
        if any(action == "secretsmanager:ListSecrets" for action, _ in grants(synthesized, spec.name))
    ]
    assert holders == ["tenant_provisioner"]


def test_only_the_tenant_access_role_may_use_the_secrets_key(synthesized: Synthesized) -> None:
    key_id = synthesized.logical_id(synthesized.stack.secrets_key)
    for spec in FUNCTIONS:
        assert key_id not in flat(statements(synthesized, spec.name)), spec.name


def test_the_provisioner_deletes_tenant_secrets_and_never_reads_them(synthesized: Synthesized) -> None:
    listing = statement_by_sid(synthesized, "tenant_provisioner", "ListTenantSecrets")
    deleting = statement_by_sid(synthesized, "tenant_provisioner", "DeleteTenantSecrets")
    assert (listing["Action"], listing["Resource"]) == ("secretsmanager:ListSecrets", "*")
    assert deleting["Action"] == "secretsmanager:DeleteSecret"
    assert deleting["Resource"] == secret_arn("*/*")  # /<app>/<stage>/tenants/<any tenant>/<any name>
    provisioner = {action for action, _ in grants(synthesized, "tenant_provisioner")}
    assert {a for a in provisioner if a.startswith("secretsmanager:")} == {
        "secretsmanager:ListSecrets",
        "secretsmanager:DeleteSecret",
    }
    assert not {a for a in provisioner if a.startswith("kms:")}


def test_the_secrets_key_rotates_and_is_the_app_apis_key(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    key = synthesized.template["Resources"][synthesized.logical_id(stack.secrets_key)]["Properties"]
    assert key["EnableKeyRotation"] is True
    aliases = [a["Properties"] for a in synthesized.resources("AWS::KMS::Alias").values()]
    assert {
        "AliasName": f"alias/{APP_NAME}-{STAGE}-tenant-secrets",
        "TargetKeyId": arn_of(synthesized, stack.secrets_key),
    } in aliases
