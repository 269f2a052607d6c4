"""cfn-lint on the synthesized templates: the main stack and the silo tenant template.

Ignored rule (documented): W3005 "dependency already enforced by a GetAtt" - CDK adds an explicit
DependsOn from each Lambda function to its role (and the role's default policy) on purpose, so the
function is only created once its permissions exist; the redundant edge is harmless.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from cfnlint.api import lint

from tests.infrastructure.synth import Synthesized

IGNORED_RULES = {"W3005"}
REGIONS = ["us-east-1", "eu-west-1"]


def problems(template: dict[str, Any]) -> list[str]:
    matches = lint(json.dumps(template), regions=REGIONS)
    return [
        f"{match.rule.id} {match.message} ({'/'.join(map(str, match.path))})"
        for match in matches
        if match.rule.id not in IGNORED_RULES
    ]


@pytest.mark.parametrize("which", ["main", "silo"])
def test_templates_have_no_cfn_lint_errors_or_warnings(synthesized: Synthesized, which: str) -> None:
    template = synthesized.template if which == "main" else synthesized.silo_template
    assert problems(template) == []


def test_cfn_lint_would_report_a_broken_template(synthesized: Synthesized) -> None:
    """Guard against a linter that silently checks nothing: break the silo table and expect errors."""
    broken = json.loads(synthesized.silo_template_text)
    table = next(r for r in broken["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table")
    table["Properties"]["BillingMode"] = "FREE"
    assert any(problem.startswith("E") for problem in problems(broken))
