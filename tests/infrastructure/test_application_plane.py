"""The application plane: the tenant users' pool and app client, the authorizer's and the app API's
permissions, and the tenant-access role every app API data call goes through (the IAM layer of
tenant isolation: the local emulator does not evaluate IAM, so the documents are asserted exactly)."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest
from aws_cdk import aws_apigateway as apigw

from tenancy.common.names import silo_stack_name
from tenancy_infra.topology import FUNCTIONS, USER_POOL, ApiTrigger
from tests.infrastructure.synth import APP_NAME, STAGE, Synthesized
from tests.infrastructure.test_iam import (
    actions_on,
    arn_of,
    as_list,
    flat,
    grants,
    statement_by_sid,
    statements,
)
from tests.infrastructure.test_nag import acknowledgements

SILO_PREFIX = f"{APP_NAME}-{STAGE}-tenant-"
PRINCIPAL_TENANT_ID = "${aws:PrincipalTag/TenantId}"
TENANT_ITEM_ACTIONS = sorted(
    [
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:ConditionCheckItem",
    ]
)
DYNAMODB_DATA_ACTIONS = {*TENANT_ITEM_ACTIONS, "dynamodb:Scan", "dynamodb:PartiQLSelect", "dynamodb:*"}
PSEUDO_ARN = [
    "arn:",
    {"Ref": "AWS::Partition"},
    ":dynamodb:",
    {"Ref": "AWS::Region"},
    ":",
    {"Ref": "AWS::AccountId"},
]


def resource(synthesized: Synthesized, construct: Any) -> dict[str, Any]:
    return synthesized.template["Resources"][synthesized.logical_id(construct)]  # type: ignore[no-any-return]


def policy_of(synthesized: Synthesized, role: Any) -> dict[str, Any]:
    role_id = synthesized.logical_id(role)
    [policy] = [
        p["Properties"]["PolicyDocument"]
        for p in synthesized.resources("AWS::IAM::Policy").values()
        if p["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    return policy


def silo_table_arn(name_pattern: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [*PSEUDO_ARN, f":table/{name_pattern}"]]}


def iam_matches(pattern: str, value: str) -> bool:
    """IAM resource matching: `*` matches any run of characters (including `/`), `?` one."""
    return fnmatch.fnmatchcase(value, pattern)


# --- the user pool ---------------------------------------------------------------------------


def test_one_user_pool_named_after_the_app_and_stage(synthesized: Synthesized) -> None:
    [pool] = synthesized.resources("AWS::Cognito::UserPool").values()
    assert (
        pool["Properties"]["UserPoolName"]
        == f"{APP_NAME}-{STAGE}-{USER_POOL.suffix}"
        == f"{APP_NAME}-{STAGE}-users"
    )
    assert pool["DeletionPolicy"] == pool["UpdateReplacePolicy"] == "Retain"
    assert pool["Properties"]["DeletionProtection"] == "ACTIVE"


def test_user_pool_schema_has_the_topology_custom_attributes(synthesized: Synthesized) -> None:
    properties = resource(synthesized, synthesized.stack.user_pool)["Properties"]
    custom = {a["Name"]: a for a in properties["Schema"] if a.get("AttributeDataType") == "String"}
    assert USER_POOL.custom_attributes == (("tenantId", False), ("role", True))
    assert {name: attribute["Mutable"] for name, attribute in custom.items()} == {
        "tenantId": False,
        "role": True,
    }
    for attribute in custom.values():
        assert int(attribute["StringAttributeConstraints"]["MinLength"]) >= 1
        assert int(attribute["StringAttributeConstraints"]["MaxLength"]) >= max(
            len(r) for r in USER_POOL.roles
        )
    [email] = [a for a in properties["Schema"] if a["Name"] == "email"]
    assert email["Required"] is True


def test_users_are_created_by_the_platform_and_sign_in_with_their_email(synthesized: Synthesized) -> None:
    properties = resource(synthesized, synthesized.stack.user_pool)["Properties"]
    assert properties["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}  # no self sign-up
    # Username = a generated userId; email is an alias (not the username attribute).
    assert properties["AliasAttributes"] == ["email"]
    assert "UsernameAttributes" not in properties
    assert properties["UsernameConfiguration"] == {"CaseSensitive": False}
    assert properties["AccountRecoverySetting"] == {
        "RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]
    }
    # An email change only counts once the new address is verified.
    assert properties["UserAttributeUpdateSettings"] == {
        "AttributesRequireVerificationBeforeUpdate": ["email"]
    }


def test_strong_passwords_mfa_and_threat_protection(synthesized: Synthesized) -> None:
    properties = resource(synthesized, synthesized.stack.user_pool)["Properties"]
    password = properties["Policies"]["PasswordPolicy"]
    assert password["MinimumLength"] >= 12
    assert all(
        password[f"Require{kind}"] is True for kind in ("Lowercase", "Uppercase", "Numbers", "Symbols")
    )
    assert password["TemporaryPasswordValidityDays"] <= 7
    assert password["PasswordHistorySize"] >= 1
    assert properties["MfaConfiguration"] == "OPTIONAL"
    assert properties["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]  # no SMS
    assert properties["UserPoolTier"] == "PLUS"
    assert properties["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    risk_id = synthesized.stack.resolve(synthesized.stack.user_pool_risk_configuration.logical_id)
    risk = synthesized.template["Resources"][risk_id]["Properties"]
    assert risk["UserPoolId"] == {"Ref": synthesized.logical_id(synthesized.stack.user_pool)}
    assert risk["ClientId"] == "ALL"
    actions = risk["AccountTakeoverRiskConfiguration"]["Actions"]
    assert actions["HighAction"]["EventAction"] in ("MFA_REQUIRED", "BLOCK")
    assert actions["MediumAction"]["EventAction"] != "NO_ACTION"
    assert risk["CompromisedCredentialsRiskConfiguration"]["Actions"] == {"EventAction": "BLOCK"}
    assert "SIGN_IN" in risk["CompromisedCredentialsRiskConfiguration"]["EventFilter"]


def test_app_client_is_public_with_srp_and_admin_password_auth_only(synthesized: Synthesized) -> None:
    [client] = synthesized.resources("AWS::Cognito::UserPoolClient").values()
    properties = client["Properties"]
    assert client == resource(synthesized, synthesized.stack.user_pool_client)
    assert properties["UserPoolId"] == {"Ref": synthesized.logical_id(synthesized.stack.user_pool)}
    assert properties["GenerateSecret"] is False
    assert sorted(properties["ExplicitAuthFlows"]) == [
        "ALLOW_ADMIN_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_SRP_AUTH",
    ]
    # No OAuth (no implicit grant, no placeholder callback URL).
    assert properties["AllowedOAuthFlowsUserPoolClient"] is False
    assert "AllowedOAuthFlows" not in properties
    assert "CallbackURLs" not in properties
    assert properties["TokenValidityUnits"] == {
        "AccessToken": "minutes",
        "IdToken": "minutes",
        "RefreshToken": "minutes",
    }
    assert properties["IdTokenValidity"] == properties["AccessTokenValidity"] == 60
    assert properties["RefreshTokenValidity"] <= 30 * 24 * 60
    assert properties["EnableTokenRevocation"] is True
    assert properties["PreventUserExistenceErrors"] == "ENABLED"


def test_the_id_token_carries_tenant_and_role_which_users_cannot_write(synthesized: Synthesized) -> None:
    properties = resource(synthesized, synthesized.stack.user_pool_client)["Properties"]
    custom = {f"custom:{name}" for name, _ in USER_POOL.custom_attributes}
    assert custom | {"email", "email_verified"} <= set(properties["ReadAttributes"])
    # Explicit (an absent list would let users write every standard attribute with their own token).
    assert properties["WriteAttributes"]
    assert not (custom | {"email", "email_verified"}) & set(properties["WriteAttributes"])


# --- the authorizer ----------------------------------------------------------------------------


def test_authorizer_reads_the_tenant_and_the_user_item_only_as_the_tenant(synthesized: Synthesized) -> None:
    """The tenant's status from the control table (GetItem, nothing else); the user item only through
    the tenant-access role (its route to find the table): no app-table or silo permission of its own."""
    stack = synthesized.stack
    control = arn_of(synthesized, stack.control_table)
    tenant_access = arn_of(synthesized, stack.tenant_access_role)
    routes = statement_by_sid(synthesized, "authorizer", "ReadTenantRoutes")
    assert flat(routes["Resource"]).endswith(f':parameter/{APP_NAME}/{STAGE}/tenants/*"]]}}')
    data = {
        (action, on)
        for action, on in grants(synthesized, "authorizer")
        if not action.startswith(("logs:", "xray:"))
    }
    assert data == {
        ("dynamodb:GetItem", flat(control)),
        ("sts:AssumeRole", flat(tenant_access)),
        ("sts:TagSession", flat(tenant_access)),
        ("ssm:GetParameter", flat(routes["Resource"])),
        ("ssm:GetParametersByPath", flat(routes["Resource"])),
    }
    assert not [g for g in data if synthesized.logical_id(stack.app_table) in g[1] or SILO_PREFIX in g[1]]


# --- the app API -----------------------------------------------------------------------------


def test_app_api_has_no_data_permission_of_its_own(synthesized: Synthesized) -> None:
    """Every item and object call goes through the tenant-scoped credentials."""
    app_api = grants(synthesized, "app_api")
    assert not [g for g in app_api if g[0].startswith(("dynamodb:", "s3:", "kms:"))], app_api
    stack = synthesized.stack
    for table in (stack.app_table, stack.control_table):
        assert not [g for g in app_api if synthesized.logical_id(table) in g[1]]
    assert not [g for g in app_api if SILO_PREFIX in g[1]]
    assert not [g for g in app_api if g[0].endswith("*") or (g[1] == '"*"' and not g[0].startswith("xray:"))]


@pytest.mark.parametrize("function", ["app_api", "authorizer"])
def test_the_tenant_data_readers_assume_only_the_tenant_access_role(
    synthesized: Synthesized, function: str
) -> None:
    statement = statement_by_sid(synthesized, function, "AssumeTenantAccessRole")
    assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
    assert statement["Resource"] == arn_of(synthesized, synthesized.stack.tenant_access_role)
    sts = {(a, on) for a, on in grants(synthesized, function) if a.startswith("sts:")}
    assert sts == {(a, flat(statement["Resource"])) for a in ("sts:AssumeRole", "sts:TagSession")}


def test_no_other_function_assumes_a_role(synthesized: Synthesized) -> None:
    as_tenant = ("app_api", "authorizer", "analytics_api", "dataset_import")
    for function in synthesized.stack.functions:
        if function not in as_tenant:
            assert not [g for g in grants(synthesized, function) if g[0].startswith("sts:")], function


def test_app_api_reads_tenant_routes_and_manages_users_of_the_pool(synthesized: Synthesized) -> None:
    routes = statement_by_sid(synthesized, "app_api", "ReadTenantRoutes")
    assert sorted(routes["Action"]) == ["ssm:GetParameter", "ssm:GetParametersByPath"]
    assert flat(routes["Resource"]).endswith(f':parameter/{APP_NAME}/{STAGE}/tenants/*"]]}}')
    users = statement_by_sid(synthesized, "app_api", "ManageTenantUsers")
    assert sorted(users["Action"]) == sorted(
        f"cognito-idp:{action}"
        for action in (
            "AdminCreateUser",
            "AdminDeleteUser",
            "AdminDisableUser",
            "AdminUpdateUserAttributes",
            "AdminGetUser",
        )
    )
    assert users["Resource"] == arn_of(synthesized, synthesized.stack.user_pool)
    cognito = {g for g in grants(synthesized, "app_api") if g[0].startswith("cognito-idp:")}
    assert {on for _, on in cognito} == {flat(users["Resource"])}


def test_only_the_user_managing_functions_touch_the_pool(synthesized: Synthesized) -> None:
    for function in synthesized.stack.functions:
        cognito = {a for a, _ in grants(synthesized, function) if a.startswith("cognito-idp:")}
        if function in ("app_api", "tenant_provisioner"):
            assert cognito, function
            assert "cognito-idp:AdminSetUserPassword" not in cognito
        else:
            assert not cognito, function


# --- the tenant provisioner (first admin, users removed at offboarding) -------------------------


def test_provisioner_creates_and_removes_tenant_users(synthesized: Synthesized) -> None:
    users = statement_by_sid(synthesized, "tenant_provisioner", "ManageTenantUsers")
    assert sorted(users["Action"]) == sorted(
        f"cognito-idp:{a}" for a in ("AdminCreateUser", "AdminDisableUser", "AdminDeleteUser", "AdminGetUser")
    )
    assert users["Resource"] == arn_of(synthesized, synthesized.stack.user_pool)


def test_provisioner_reads_and_writes_items_of_silo_tables_without_scan(synthesized: Synthesized) -> None:
    statement = statement_by_sid(synthesized, "tenant_provisioner", "SiloTableItems")
    assert sorted(statement["Action"]) == sorted(
        f"dynamodb:{a}"
        for a in (
            "GetItem",
            "Query",
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "BatchWriteItem",
            "ConditionCheckItem",
        )
    )
    assert statement["Resource"] == silo_table_arn(f"{SILO_PREFIX}*")
    assert "Condition" not in statement
    assert actions_on(synthesized, "tenant_provisioner", statement["Resource"]) == set(statement["Action"])


# --- the tenant-access role ------------------------------------------------------------------


def tenant_access(synthesized: Synthesized) -> dict[str, Any]:
    return resource(synthesized, synthesized.stack.tenant_access_role)["Properties"]  # type: ignore[no-any-return]


def test_tenant_access_role_is_named_and_short_lived(synthesized: Synthesized) -> None:
    properties = tenant_access(synthesized)
    assert properties["RoleName"] == f"{APP_NAME}-{STAGE}-tenant-access"
    assert properties["MaxSessionDuration"] == 3600
    assert "ManagedPolicyArns" not in properties
    assert "Policies" not in properties


def test_tenant_access_trust_policy_exactly(synthesized: Synthesized) -> None:
    # In the order CDK writes a composite principal (by logical id).
    as_tenant = ("app_api", "authorizer", "analytics_api", "dataset_import")
    trusted = sorted(
        (arn_of(synthesized, synthesized.stack.roles[name]) for name in as_tenant),
        key=lambda arn: str(arn["Fn::GetAtt"][0]),
    )
    assert tenant_access(synthesized)["AssumeRolePolicyDocument"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": trusted},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {
                    "StringLike": {"aws:RequestTag/TenantId": "*"},
                    "ForAllValues:StringEquals": {"aws:TagKeys": ["TenantId"]},
                },
            }
        ],
    }
    # Trusted because the topology gives these (and only them) the role's ARN: the authorizer reads
    # each token's user item, the app API every item and object, the analytics API the cards' data
    # and the import a dataset's upload and Parquet, as the tenant.
    assert [spec.name for spec in FUNCTIONS if "TENANT_ACCESS_ROLE_ARN" in spec.environment] == [
        "authorizer",
        "app_api",
        "analytics_api",
        "dataset_import",
    ]


def test_tenant_access_policy_exactly(synthesized: Synthesized) -> None:
    stack = synthesized.stack
    bucket = arn_of(synthesized, stack.tenant_bucket)
    statements_ = policy_of(synthesized, stack.tenant_access_role)["Statement"]
    items, objects, no_indexes = statements_[:3]
    assert items == {
        "Sid": "TenantItems",
        "Effect": "Allow",
        "Action": TENANT_ITEM_ACTIONS,
        "Resource": [
            arn_of(synthesized, stack.app_table),
            silo_table_arn(f"{SILO_PREFIX}{PRINCIPAL_TENANT_ID}-*"),
        ],
        "Condition": {
            "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [f"TENANT#{PRINCIPAL_TENANT_ID}"]}
        },
    }
    assert objects["Sid"] == "TenantObjects"
    assert objects["Effect"] == "Allow"
    assert objects["Action"] == ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    assert "Condition" not in objects
    assert sorted(map(flat, objects["Resource"])) == sorted(
        map(
            flat,
            [
                {"Fn::Join": ["", [bucket, f"/tenants/{PRINCIPAL_TENANT_ID}/*"]]},
                {
                    "Fn::Join": [
                        "",
                        [
                            "arn:",
                            {"Ref": "AWS::Partition"},
                            f":s3:::{SILO_PREFIX}*/tenants/{PRINCIPAL_TENANT_ID}/*",
                        ],
                    ]
                },
            ],
        )
    )
    assert no_indexes == {
        "Sid": "NoIndexes",
        "Effect": "Deny",
        "Action": TENANT_ITEM_ACTIONS,
        "Resource": silo_table_arn("*/index/*"),
    }


def test_tenant_access_reaches_the_usage_table_only_in_the_tenants_partition(
    synthesized: Synthesized,
) -> None:
    """The request limiter and the usage reads run as the tenant: the usage table, only where the
    leading key is the session's own partition, and never Delete, Scan or an index."""
    stack = synthesized.stack
    [usage] = [
        s
        for s in policy_of(synthesized, stack.tenant_access_role)["Statement"]
        if s.get("Sid") == "TenantUsage"
    ]
    assert usage == {
        "Sid": "TenantUsage",
        "Effect": "Allow",
        "Action": [
            "dynamodb:ConditionCheckItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
        ],
        "Resource": arn_of(synthesized, stack.usage_table),
        "Condition": {
            "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [f"TENANT#{PRINCIPAL_TENANT_ID}"]}
        },
    }
    table = synthesized.logical_id(stack.usage_table)
    others = [
        s
        for s in policy_of(synthesized, stack.tenant_access_role)["Statement"]
        if table in flat(s["Resource"]) and s.get("Sid") != "TenantUsage"
    ]
    assert others == []


def test_tenant_access_never_reaches_an_index_or_scans(synthesized: Synthesized) -> None:
    document = policy_of(synthesized, synthesized.stack.tenant_access_role)
    for statement in document["Statement"]:
        if statement["Effect"] == "Allow":
            assert "/index/" not in flat(statement["Resource"])
            assert "dynamodb:Scan" not in as_list(statement["Action"])
    assert "dynamodb:Scan" not in json.dumps(synthesized.template)
    assert "PartiQL" not in json.dumps(synthesized.template)


def test_the_policy_variable_is_literal_in_the_template(synthesized: Synthesized) -> None:
    """`${aws:PrincipalTag/TenantId}` must reach IAM as written: not resolved as a CDK token and not
    inside an Fn::Sub (where CloudFormation would try to substitute it)."""
    text = json.dumps(policy_of(synthesized, synthesized.stack.tenant_access_role))
    # items and the silo table, two object prefixes, the usage table's LeadingKeys; secrets: their
    # name and tag on create, name and tag after, and the key's SecretARN context
    assert text.count(PRINCIPAL_TENANT_ID) == 10
    assert "Fn::Sub" not in text
    assert "Token[" not in text


def test_tenant_silo_table_pattern_matches_only_the_tenants_own_table(synthesized: Synthesized) -> None:
    """The silo table of tenant T is `<stack>-Table-<suffix>`, the stack `<app>-<stage>-tenant-T`."""
    [_, silo] = policy_of(synthesized, synthesized.stack.tenant_access_role)["Statement"][0]["Resource"]
    name_pattern = silo["Fn::Join"][1][-1].removeprefix(":table/")
    own, other = "3f1c7a52-0f1e-4a8b-9d52-1a2b3c4d5e6f", "9b0e2d41-7c3a-4f6e-8a1d-6f5e4d3c2b1a"
    pattern = name_pattern.replace(PRINCIPAL_TENANT_ID, own)
    assert iam_matches(pattern, f"{silo_stack_name(APP_NAME, STAGE, own)}-Table-1A2B3C4D5E6F")
    assert not iam_matches(pattern, f"{silo_stack_name(APP_NAME, STAGE, other)}-Table-1A2B3C4D5E6F")
    assert not iam_matches(pattern, f"{APP_NAME}-{STAGE}-app")
    # `*` crosses `/`: the own table's indexes match the Allow pattern, hence the explicit Deny.
    index = f"{silo_stack_name(APP_NAME, STAGE, own)}-Table-1A2B3C4D5E6F/index/GSI1"
    assert iam_matches(pattern, index)
    assert iam_matches("*/index/*", index)


@pytest.mark.parametrize("function", [spec.name for spec in FUNCTIONS])
def test_no_function_role_reaches_tenant_data_by_principal_tag(
    synthesized: Synthesized, function: str
) -> None:
    """The policy variable belongs to the tenant-access role only."""
    assert PRINCIPAL_TENANT_ID not in json.dumps(statements(synthesized, function))


# --- cdk-nag acknowledgements of the application plane ------------------------------------------


def test_cog4_on_app_methods_says_the_lambda_authorizer_verifies_the_cognito_token(
    synthesized: Synthesized,
) -> None:
    acknowledged = acknowledgements(synthesized.app)
    app_api = synthesized.stack.apis["app"]
    methods = [c for c in app_api.node.find_all() if isinstance(c, apigw.Method)]
    routes = [  # every function behind the app API: app_api and analytics_api
        route
        for spec in FUNCTIONS
        if isinstance(spec.trigger, ApiTrigger) and spec.trigger.api == "app"
        for route in spec.trigger.routes
    ]
    assert len(methods) == len(routes)
    for method in methods:
        path = method.node.default_child.node.path  # type: ignore[union-attr]
        reason = acknowledged[("AwsSolutions-COG4", path)]
        for words in (
            "Lambda REQUEST authorizer",
            "JWKS",
            "issuer",
            "audience",
            "token_use",
            "expiry",
            "status",
            "still a user of the tenant",
        ):
            assert words in reason, (path, words)


def test_outputs_name_the_pool_client_role_and_both_apis(synthesized: Synthesized) -> None:
    outputs = synthesized.template["Outputs"]
    stack = synthesized.stack
    assert outputs["UserPoolId"]["Value"] == {"Ref": synthesized.logical_id(stack.user_pool)}
    assert outputs["UserPoolClientId"]["Value"] == {"Ref": synthesized.logical_id(stack.user_pool_client)}
    assert outputs["TenantAccessRoleArn"]["Value"] == arn_of(synthesized, stack.tenant_access_role)
    assert {"ControlApiUrl", "AppApiUrl"} <= set(outputs)
