"""Small helpers to reach the CloudFormation resource behind an L2 construct."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct


def cfn(construct: Construct) -> cdk.CfnResource:
    """The construct's default CloudFormation resource (where cdk-nag reports its findings)."""
    child = construct.node.default_child
    if not isinstance(child, cdk.CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource")
    return child


def default_policy(role: iam.Role) -> cdk.CfnResource:
    """The AWS::IAM::Policy CDK creates for `role.add_to_policy` (must already exist)."""
    policy = role.node.try_find_child("DefaultPolicy")
    if not isinstance(policy, iam.Policy):
        raise TypeError(f"{role.node.path} has no default policy")
    return cfn(policy)
