"""The synthesized app the infrastructure tests share (built once per session in conftest.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from tenancy_infra.stacks.tenancy_stack import TenancyStack
from tenancy_infra.topology import TableSpec

APP_NAME = "acme"
STAGE = "qa"
STACK_NAME = f"{APP_NAME}-{STAGE}"


@dataclass
class Synthesized:
    app: cdk.App
    stack: TenancyStack
    outdir: Path
    template: dict[str, Any]  # the main stack's CloudFormation template
    assertions: Template
    silo_template: dict[str, Any]  # the silo template as shipped (the stack's file asset)
    silo_template_text: str

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == resource_type
        }

    def logical_id(self, construct: Any) -> str:
        return str(self.stack.resolve(construct.node.default_child.logical_id))

    def staged_asset(self, s3_key: str) -> Path:
        """The staged source (directory or file) of the asset uploaded as `s3_key`."""
        manifest = json.loads((self.outdir / f"{self.stack.artifact_id}.assets.json").read_text())
        asset_hash = s3_key.split(".", 1)[0]
        return self.outdir / manifest["files"][asset_hash]["source"]["path"]


def validation_failure(outdir: Path, error: Exception) -> str:
    report = outdir / "validation-report.json"
    if not report.exists():
        return str(error)
    lines = []
    for plugin in json.loads(report.read_text()).get("pluginReports", []):
        for violation in plugin.get("violations", []):
            paths = [c["constructPath"] for c in violation.get("violatingConstructs", [])]
            lines.append(f"{violation['ruleName']} ({violation['severity']}): {paths}")
    return "cdk-nag findings nobody acknowledged:\n" + "\n".join(lines)


def shipped_silo_template(outdir: Path, stack: TenancyStack) -> str:
    """The silo template file as staged into the cloud assembly (what `cdk deploy` uploads)."""
    manifest = json.loads((outdir / f"{stack.artifact_id}.assets.json").read_text())
    key = stack.silo_template.asset_hash
    source = manifest["files"][key]["source"]
    assert source["packaging"] == "file"
    return (outdir / source["path"]).read_text()


def table_named(synthesized: Synthesized, name: str) -> dict[str, Any]:
    [table] = [
        resource
        for resource in synthesized.resources("AWS::DynamoDB::Table").values()
        if resource["Properties"].get("TableName") == name
    ]
    return table


def expected_schema(spec: TableSpec) -> dict[str, Any]:
    """The key schema, attributes and GSIs a table built from `spec` must have."""
    return {
        "KeySchema": spec.key_schema(),
        "AttributeDefinitions": sorted(
            ({"AttributeName": name, "AttributeType": "S"} for name in spec.attribute_names()),
            key=lambda attribute: attribute["AttributeName"],
        ),
        "GlobalSecondaryIndexes": {
            index.name: {
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in spec.indexes
        },
    }


def actual_schema(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "KeySchema": properties["KeySchema"],
        "AttributeDefinitions": sorted(
            properties["AttributeDefinitions"], key=lambda attribute: attribute["AttributeName"]
        ),
        "GlobalSecondaryIndexes": {
            index["IndexName"]: {key: value for key, value in index.items() if key != "IndexName"}
            for index in properties.get("GlobalSecondaryIndexes", [])
        },
    }
