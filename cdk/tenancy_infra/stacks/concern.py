"""Concern: the base of TenancyStack's constructs, one per concern (tables, functions, APIs, ...)."""

from __future__ import annotations

import re

import aws_cdk as cdk
from constructs import Construct


class Concern(Construct):
    """One concern of the stack, as a construct of its own.

    Its resources are created in the stack's scope (`self.stack`), not under this construct: their
    logical IDs, and the IDs and names CDK derives from construct paths (API Gateway's
    `ApiPermission.<api unique id>...` and EventBridge's `AllowEventRule<rule unique id>` Lambda
    permissions, the DynamoDB event source mapping, queue policy statement ids), stay those of the
    deployed stacks, so grouping the code into constructs replaces no resource. The construct itself
    is an empty node of the construct tree.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.stack = cdk.Stack.of(self)


def camel(name: str) -> str:
    """`tenant_api` -> `TenantApi`: a topology name as a construct id."""
    return "".join(part.capitalize() for part in re.split(r"[_\-]", name) if part)
