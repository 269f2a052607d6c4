"""The operations dashboard (its widgets, parsed from DashboardBody) and the alarms: each one's
metric, threshold and action, on every function and every dead-letter queue."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tenancy.application.access import request_metrics
from tenancy.application.quotas import limiter
from tenancy.common.names import METRICS_NAMESPACE
from tenancy.control import reconciler
from tenancy_infra.topology import FUNCTIONS
from tests.infrastructure.synth import APP_NAME, STAGE, Synthesized

SCHEMA = f"{{{METRICS_NAMESPACE},service,tenant_id}}"


def dashboard(synthesized: Synthesized) -> dict[str, Any]:
    """The dashboard's body as JSON, each CloudFormation token replaced by TOKEN."""
    [resource] = synthesized.resources("AWS::CloudWatch::Dashboard").values()
    body = resource["Properties"]["DashboardBody"]
    assert resource["Properties"]["DashboardName"] == f"{APP_NAME}-{STAGE}-operations"
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    return json.loads("".join(part if isinstance(part, str) else "TOKEN" for part in parts))  # type: ignore[no-any-return]


def widgets(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    found = {}
    for widget in dashboard(synthesized)["widgets"]:
        title = widget["properties"].get("title")
        if title:
            found[title] = widget["properties"]
    return found


def expressions(properties: dict[str, Any]) -> list[str]:
    return [
        m[0]["expression"] for m in properties["metrics"] if isinstance(m[0], dict) and "expression" in m[0]
    ]


def alarms(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        alarm["Properties"]["AlarmName"]: alarm["Properties"]
        for alarm in synthesized.resources("AWS::CloudWatch::Alarm").values()
    }


def topic_ref(synthesized: Synthesized) -> dict[str, str]:
    return {"Ref": synthesized.logical_id(synthesized.stack.alarm_topic)}


@pytest.mark.parametrize(
    ("title", "metric", "statistic"),
    [
        ("Requests by tenant", request_metrics.REQUESTS_METRIC, "Sum"),
        ("Errors (5xx) by tenant", request_metrics.SERVER_ERRORS_METRIC, "Sum"),
        ("Throttles (429) by tenant", limiter.THROTTLED_METRIC, "Sum"),
        ("Latency p90 by tenant (ms)", request_metrics.LATENCY_METRIC, "p90"),
    ],
)
def test_the_dashboard_shows_each_tenant_s_requests_errors_throttles_and_latency(
    synthesized: Synthesized, title: str, metric: str, statistic: str
) -> None:
    """A SEARCH over the tenant_id dimension set the functions publish: one line per tenant, under
    the metric names the layer actually emits."""
    assert expressions(widgets(synthesized)[title]) == [
        f"SEARCH('{SCHEMA} MetricName=\"{metric}\"', '{statistic}', 300)"
    ]


def test_the_dashboard_shows_each_api_s_errors_and_latency(synthesized: Synthesized) -> None:
    found = widgets(synthesized)
    for api in ("control", "app"):
        errors = [m[:2] for m in found[f"{api} API: 4xx and 5xx"]["metrics"]]
        assert errors == [["AWS/ApiGateway", "4XXError"], ["AWS/ApiGateway", "5XXError"]]
        latency = found[f"{api} API: latency"]["metrics"]
        assert [m[1] for m in latency] == ["Latency", "Latency"]
        assert any(m[3] == f"{APP_NAME}-{STAGE}-{api}-api" for m in latency), latency


@pytest.mark.parametrize(
    ("title", "metric"),
    [("Lambda errors", "Errors"), ("Lambda throttles", "Throttles"), ("Lambda duration p90", "Duration")],
)
def test_the_dashboard_shows_every_function(synthesized: Synthesized, title: str, metric: str) -> None:
    lines = widgets(synthesized)[title]["metrics"]
    assert {line[1] for line in lines} == {metric}
    assert sorted(line[-1]["label"] for line in lines) == sorted(spec.name for spec in FUNCTIONS)


def test_the_dashboard_shows_the_onboarding_funnel_in_order(synthesized: Synthesized) -> None:
    funnel = widgets(synthesized)["Onboarding funnel"]
    names = [
        "TenantRegistered",
        "TenantOnboarding",
        "TenantResourcesProvisioned",
        "ProvisioningFailed",
        "TenantProvisioned",
    ]
    assert expressions(funnel) == [f"SUM(SEARCH('{SCHEMA} MetricName=\"{n}\"', 'Sum', 300))" for n in names]
    assert funnel["setPeriodToTimeRange"] is True


def test_every_function_has_an_errors_alarm_that_notifies_the_topic(synthesized: Synthesized) -> None:
    found = alarms(synthesized)
    for spec in FUNCTIONS:
        alarm = found[f"{APP_NAME}-{STAGE}-{spec.resource_suffix}-errors"]
        function_id = synthesized.logical_id(synthesized.stack.functions[spec.name])
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
            "AWS/Lambda",
            "Errors",
            "Sum",
        )
        assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
        assert alarm["AlarmActions"] == [topic_ref(synthesized)]


def test_every_dead_letter_queue_has_a_depth_alarm(synthesized: Synthesized) -> None:
    """Every queue of the stack is a dead-letter queue; each one holding a message alarms."""
    watched = {
        json.dumps(alarm["Dimensions"][0]["Value"]): alarm
        for alarm in alarms(synthesized).values()
        if alarm.get("MetricName") == "ApproximateNumberOfMessagesVisible"
    }
    queues = synthesized.resources("AWS::SQS::Queue")
    assert len(queues) == len(watched) >= 8
    for logical_id in queues:
        alarm = watched[json.dumps({"Fn::GetAtt": [logical_id, "QueueName"]})]
        assert (alarm["Namespace"], alarm["Statistic"]) == ("AWS/SQS", "Maximum")
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
        assert alarm["AlarmActions"] == [topic_ref(synthesized)]


def test_stuck_tenants_alarm_on_the_reconciler_s_metric(synthesized: Synthesized) -> None:
    alarm = alarms(synthesized)[f"{APP_NAME}-{STAGE}-stuck-tenants"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (METRICS_NAMESPACE, reconciler.STUCK_TENANTS_METRIC)
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "reconciler"}]
    assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == (
        "Maximum",
        0,
        "GreaterThanThreshold",
    )
    assert alarm["AlarmActions"] == [topic_ref(synthesized)]


def test_a_throttling_spike_alarms_on_every_tenant_s_429s(synthesized: Synthesized) -> None:
    alarm = alarms(synthesized)[f"{APP_NAME}-{STAGE}-throttling-spike"]
    [query] = alarm["Metrics"]
    assert query["Expression"] == (
        f'SELECT SUM({limiter.THROTTLED_METRIC}) FROM SCHEMA("{METRICS_NAMESPACE}", service, tenant_id)'  # noqa: S608
    )
    assert (query["Period"], query["ReturnData"]) == (300, True)
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (100, "GreaterThanThreshold")
    assert alarm["AlarmActions"] == [topic_ref(synthesized)]


def test_the_alarm_topic_is_encrypted_ssl_only_and_cloudwatch_may_use_its_key(
    synthesized: Synthesized,
) -> None:
    [topic] = synthesized.resources("AWS::SNS::Topic").values()
    key_id = synthesized.logical_id(synthesized.stack.alarm_topic.master_key)
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert topic["Properties"]["TopicName"] == f"{APP_NAME}-{STAGE}-alarms"
    [policy] = synthesized.resources("AWS::SNS::TopicPolicy").values()
    [deny] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})
    key = synthesized.template["Resources"][key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    [cloudwatch] = [
        s for s in key["KeyPolicy"]["Statement"] if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert set(cloudwatch["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
