"""cdk-nag acknowledgements (cdk-nag 3: `Validations.of(construct).acknowledge(...)`).

Each acknowledgement names one rule id (for IAM4/IAM5 one finding, `AwsSolutions-IAM5[Resource::...]`),
gives a specific reason, and sits on the narrowest construct that produces the finding.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

_RULE_ID = re.compile(r"^AwsSolutions-[A-Z]+[0-9]+(\[(Resource|Action|Policy)::[^\]]+\])?$")
MIN_REASON_LENGTH = 40
# Context key: when true, acknowledge() validates its arguments but records nothing, so a test can
# see every finding the acknowledgements cover (and catch acknowledgements that cover nothing).
SKIP_ACKNOWLEDGEMENTS = "tenancy:skip-nag-acknowledgements"


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge exactly one AwsSolutions rule (or one finding of it) on `construct`."""
    if not _RULE_ID.match(rule_id):
        raise ValueError(f"not a single AwsSolutions rule id or finding: {rule_id!r}")
    if len(reason) < MIN_REASON_LENGTH:
        raise ValueError(f"the reason for {rule_id} must say why, specifically: {reason!r}")
    if construct.node.try_get_context(SKIP_ACKNOWLEDGEMENTS):
        return
    Validations.of(construct).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def acknowledge_wildcard(construct: IConstruct, kind: str, value: Any, reason: str) -> None:
    """Acknowledge one IAM5 finding: `kind` is "Resource" or "Action"; `value` a string or a token
    (resolved and flattened the way cdk-nag names the finding)."""
    acknowledge(construct, f"AwsSolutions-IAM5[{kind}::{finding_text(construct, value)}]", reason)


def acknowledge_managed_policy(construct: IConstruct, policy_arn: Any, reason: str) -> None:
    acknowledge(construct, f"AwsSolutions-IAM4[Policy::{finding_text(construct, policy_arn)}]", reason)


def finding_text(scope: IConstruct, value: Any) -> str:
    """A value as cdk-nag prints it in a finding id (its `flattenCfnReference`)."""
    return flatten_cfn_reference(Stack.of(scope).resolve(value))


def flatten_cfn_reference(node: Any) -> str:
    """Port of cdk-nag's utils/flatten-cfn-reference.ts."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(flatten_cfn_reference(item) for item in items)
        if "Fn::Sub" in node:
            return flatten_cfn_reference(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{flatten_cfn_reference(resource)}.{flatten_cfn_reference(attribute)}>"
        if "Fn::ImportValue" in node:
            return flatten_cfn_reference(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{flatten_cfn_reference(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))
