"""cdk-nag AwsSolutions: no unacknowledged finding, and every acknowledgement is specific and needed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

from tenancy_infra.stacks.application import build_app
from tenancy_infra.stacks.nag import SKIP_ACKNOWLEDGEMENTS
from tenancy_infra.stacks.silo import build_silo_app
from tests.infrastructure.synth import APP_NAME, STACK_NAME, STAGE, Synthesized

ONE_RULE = re.compile(r"^AwsSolutions-[A-Z]+\d+(\[(Resource|Action|Policy)::[^\]]+\])?$")


def findings(scope: IConstruct) -> set[tuple[str, str]]:
    """(rule id, construct path) of every unacknowledged AwsSolutions finding, errors and warnings."""
    report = AwsSolutionsChecks().validate_scope(scope)
    found = {
        (violation.rule_name, resource.construct_path)
        for violation in report.violations
        for resource in violation.violating_resources
    }
    assert report.success is (not found)
    return found


def acknowledgements(scope: IConstruct) -> dict[tuple[str, str], str]:
    """(rule id, construct path) -> reason, for every AwsSolutions acknowledgement recorded under
    `scope`. CDK's constructs acknowledge rules of its own template validator themselves
    (`CloudFormation-Validate::...`: the stack's Fn::GetAZs of the isolated VPC, W3010; the flow
    log's camelCase DestinationOptions, F3002/F3003): those are not the app's."""
    acknowledged: dict[tuple[str, str], str] = {}
    for construct in scope.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                for rule_id, reason in entry.data.items():
                    rule = re.sub(r"^annotation::", "", rule_id, flags=re.IGNORECASE)
                    if rule.startswith("CloudFormation-Validate::"):
                        continue
                    acknowledged[(rule, construct.node.path)] = reason
    return acknowledged


@pytest.fixture(scope="module")
def silo_app() -> cdk.App:
    app, _ = build_silo_app(APP_NAME, STAGE, nag=False)
    return app


def test_main_app_has_no_unacknowledged_errors_or_warnings(synthesized: Synthesized) -> None:
    assert findings(synthesized.app) == set()


def test_silo_app_has_no_unacknowledged_errors_or_warnings(silo_app: cdk.App) -> None:
    assert findings(silo_app) == set()


@pytest.mark.parametrize("which", ["main", "silo"])
def test_acknowledgements_are_single_rules_with_specific_reasons_on_resources(
    synthesized: Synthesized, silo_app: cdk.App, which: str
) -> None:
    app = synthesized.app if which == "main" else silo_app
    acknowledged = acknowledgements(app)
    assert acknowledged
    for (rule, path), reason in acknowledged.items():
        assert ONE_RULE.match(rule), (rule, path)
        assert len(reason) >= 40, (rule, path, reason)
        # On the CloudFormation resource itself: never a stack-wide or app-wide acknowledgement.
        construct = app.node.find_child(path.split("/")[0])
        for part in path.split("/")[1:]:
            construct = construct.node.find_child(part)
        assert isinstance(construct, cdk.CfnResource), (rule, path)
    # The same rule on different resources may share a reason; different rules never do.
    by_reason: dict[str, set[str]] = {}
    for (rule, _), reason in acknowledged.items():
        by_reason.setdefault(reason, set()).add(rule.split("[")[0] + ("[]" if "[" in rule else ""))
    assert all(len(rules) == 1 for rules in by_reason.values()), by_reason


def test_iam_wildcards_are_acknowledged_finding_by_finding(synthesized: Synthesized) -> None:
    acknowledged = acknowledgements(synthesized.app)
    iam = [rule for rule, _ in acknowledged if rule.startswith(("AwsSolutions-IAM4", "AwsSolutions-IAM5"))]
    assert iam
    assert all("[" in rule for rule in iam), "IAM4/IAM5 acknowledgements must name their finding"


def test_every_acknowledgement_covers_a_finding_the_checks_really_report(
    synthesized: Synthesized, silo_app: cdk.App, tmp_path: Path
) -> None:
    """With acknowledgements switched off, synthesis must fail on exactly the acknowledged findings
    (so none is stale); the app name and stage come from context, as with `cdk synth -c`."""
    app = build_app(
        outdir=str(tmp_path),
        context={
            "app_name": APP_NAME,
            "stage": STAGE,
            SKIP_ACKNOWLEDGEMENTS: True,
            "aws:cdk:disable-asset-staging": True,
        },
    )
    assert app.node.try_find_child(STACK_NAME) is not None
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report: dict[str, Any] = json.loads((tmp_path / "validation-report.json").read_text())
    [plugin] = report["pluginReports"]
    assert plugin["pluginName"] == "AwsSolutions"
    reported = {
        (violation["ruleName"], construct["constructPath"])
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    }
    assert reported == set(acknowledgements(synthesized.app))

    unacknowledged_silo, _ = build_silo_app(APP_NAME, STAGE, nag=False, context={SKIP_ACKNOWLEDGEMENTS: True})
    assert findings(unacknowledged_silo) == set(acknowledgements(silo_app))
