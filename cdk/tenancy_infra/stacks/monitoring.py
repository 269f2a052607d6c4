"""Monitoring: the operations dashboard and the alarms of one `<app>-<stage>` deployment.

The functions publish EMF metrics to tenancy.common.names.METRICS_NAMESPACE with a `tenant_id`
dimension (tenancy.common.observability.count/measure: dimensions `tenant_id` and `service`), so
"by tenant" is a SEARCH over that schema, one line per tenant:

- requests, 5xx, latency: ApiRequests, ApiServerErrors, ApiLatency (application.access.request_metrics)
- throttles: RequestsThrottled (application.quotas.limiter, one point per 429)
- the onboarding funnel: TenantRegistered (control API) -> TenantOnboarding (lifecycle request) ->
  TenantResourcesProvisioned | ProvisioningFailed (the provisioner's TenantProvisioned COMPLETED |
  FAILED) -> TenantProvisioned (status PROVISIONED)
- stuck tenants: StuckTenants (the reconciler, every run, dimension `service` only)

Alarms notify one SNS topic (`<app>-<stage>-alarms`, encrypted with its own KMS key, which CloudWatch
may use): each function's errors, each dead-letter queue holding a message, stuck tenants, and a
throttling spike (a Metrics Insights query summing every tenant's 429s: alarms cannot use SEARCH).
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from tenancy.common.names import METRICS_NAMESPACE

from .concern import Concern, camel
from .naming import Naming

PERIOD = Duration.minutes(5)
TENANT_SCHEMA = f"{{{METRICS_NAMESPACE},service,tenant_id}}"  # count/measure's dimension set
REQUESTS_METRIC = "ApiRequests"
SERVER_ERRORS_METRIC = "ApiServerErrors"
LATENCY_METRIC = "ApiLatency"
THROTTLED_METRIC = "RequestsThrottled"
STUCK_TENANTS_METRIC = "StuckTenants"
RECONCILER_SERVICE = "reconciler"
# The onboarding funnel, in order: (metric, what it counts).
FUNNEL = (
    ("TenantRegistered", "registered (POST /tenants)"),
    ("TenantOnboarding", "onboarding requested"),
    ("TenantResourcesProvisioned", "TenantProvisioned COMPLETED"),
    ("ProvisioningFailed", "TenantProvisioned FAILED"),
    ("TenantProvisioned", "PROVISIONED"),
)
# 429s across every tenant in one PERIOD before the throttling alarm fires.
THROTTLE_SPIKE_THRESHOLD = 100


def by_tenant(metric: str, statistic: str, label: str) -> cw.MathExpression:
    """One line per tenant: SEARCH over the tenant_id schema."""
    return cw.MathExpression(
        expression=f"SEARCH('{TENANT_SCHEMA} MetricName=\"{metric}\"', '{statistic}', {int(PERIOD.to_seconds())})",
        label=label,
        period=PERIOD,
        using_metrics={},
    )


def all_tenants(metric: str, label: str) -> cw.MathExpression:
    """Every tenant's points summed into one line."""
    return cw.MathExpression(
        expression=(
            f"SUM(SEARCH('{TENANT_SCHEMA} MetricName=\"{metric}\"', 'Sum', {int(PERIOD.to_seconds())}))"
        ),
        label=label,
        period=PERIOD,
        using_metrics={},
    )


class Monitoring(Concern):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: Naming,
        functions: Mapping[str, lambda_.Function],
        apis: Mapping[str, apigw.RestApi],
        dead_letter_queues: Mapping[str, sqs.Queue],
    ) -> None:
        super().__init__(scope, construct_id)
        self.naming = naming
        self.alarm_key = kms.Key(
            self.stack,
            "AlarmTopicKey",
            description=f"Encrypts {naming.resource('alarms')}, the alarms' SNS topic",
            enable_key_rotation=True,
        )
        # CloudWatch publishes to an encrypted topic only with a key it may use (not aws/sns).
        self.alarm_key.grant(
            iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*"
        )
        self.alarm_topic = sns.Topic(
            self.stack,
            "AlarmTopic",
            topic_name=naming.resource("alarms"),
            display_name=f"Tenancy {naming.app_name} {naming.stage} alarms",
            master_key=self.alarm_key,
            enforce_ssl=True,
        )
        self.alarms: dict[str, cw.Alarm] = {}
        self._function_alarms(functions)
        self._queue_alarms(dead_letter_queues)
        self._tenant_alarms()
        self.dashboard = self._dashboard(functions, apis, dead_letter_queues)

    # --- alarms ---------------------------------------------------------------------------------

    def _alarm(
        self, key: str, *, metric: cw.IMetric, threshold: float, description: str, **options: object
    ) -> None:
        alarm = cw.Alarm(
            self.stack,
            f"{camel(key)}Alarm",
            alarm_name=self.naming.resource(key),
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            **options,  # type: ignore[arg-type]
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.alarm_topic))
        self.alarms[key] = alarm

    def _function_alarms(self, functions: Mapping[str, lambda_.Function]) -> None:
        for name, function in functions.items():
            self._alarm(
                f"{name.replace('_', '-')}-errors",
                metric=function.metric_errors(period=PERIOD, statistic=cw.Stats.SUM),
                threshold=1,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                description=f"{name} failed at least once in 5 minutes (Lambda Errors)",
            )

    def _queue_alarms(self, queues: Mapping[str, sqs.Queue]) -> None:
        for label, queue in queues.items():
            self._alarm(
                f"{label.replace('_', '-')}-dlq",
                metric=queue.metric_approximate_number_of_messages_visible(
                    period=PERIOD, statistic=cw.Stats.MAXIMUM
                ),
                threshold=0,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                description=f"The dead-letter queue {label} holds a message: inspect and redrive it",
            )

    def _tenant_alarms(self) -> None:
        self._alarm(
            "stuck-tenants",
            metric=cw.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=STUCK_TENANTS_METRIC,
                dimensions_map={"service": RECONCILER_SERVICE},
                period=PERIOD,
                statistic=cw.Stats.MAXIMUM,
            ),
            threshold=0,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            description="The reconciler found tenants stuck in a transient status (re-driven or failed)",
        )
        self._alarm(
            "throttling-spike",
            metric=cw.MathExpression(
                expression=(
                    # A Metrics Insights query of constants (no input reaches it).
                    f'SELECT SUM({THROTTLED_METRIC}) FROM SCHEMA("{METRICS_NAMESPACE}", service, tenant_id)'  # noqa: S608
                ),
                label="429s, every tenant",
                period=PERIOD,
                using_metrics={},
            ),
            threshold=THROTTLE_SPIKE_THRESHOLD,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            description=f"More than {THROTTLE_SPIKE_THRESHOLD} requests refused with 429 in 5 minutes",
        )

    # --- dashboard ------------------------------------------------------------------------------

    def _dashboard(
        self,
        functions: Mapping[str, lambda_.Function],
        apis: Mapping[str, apigw.RestApi],
        queues: Mapping[str, sqs.Queue],
    ) -> cw.Dashboard:
        dashboard = cw.Dashboard(
            self.stack,
            "OperationsDashboard",
            dashboard_name=self.naming.resource("operations"),
            default_interval=Duration.hours(3),
        )
        graph = cw.GraphWidget
        dashboard.add_widgets(
            cw.TextWidget(
                markdown=(
                    f"# Tenancy {self.naming.app_name} / {self.naming.stage}\n"
                    f"Metrics in `{METRICS_NAMESPACE}` carry `tenant_id`; alarms notify "
                    f"`{self.naming.resource('alarms')}`."
                ),
                width=24,
                height=2,
            )
        )
        dashboard.add_widgets(
            graph(title="Requests by tenant", left=[by_tenant(REQUESTS_METRIC, "Sum", "requests")], width=6),
            graph(
                title="Errors (5xx) by tenant", left=[by_tenant(SERVER_ERRORS_METRIC, "Sum", "5xx")], width=6
            ),
            graph(
                title="Throttles (429) by tenant", left=[by_tenant(THROTTLED_METRIC, "Sum", "429")], width=6
            ),
            graph(
                title="Latency p90 by tenant (ms)", left=[by_tenant(LATENCY_METRIC, "p90", "p90")], width=6
            ),
        )
        dashboard.add_widgets(
            *(
                widget
                for api_name, api in apis.items()
                for widget in (
                    graph(
                        title=f"{api_name} API: 4xx and 5xx",
                        left=[
                            api.metric_client_error(period=PERIOD, statistic=cw.Stats.SUM),
                            api.metric_server_error(period=PERIOD, statistic=cw.Stats.SUM),
                        ],
                        width=6,
                    ),
                    graph(
                        title=f"{api_name} API: latency",
                        left=[
                            api.metric_latency(period=PERIOD, statistic=cw.Stats.p(50)),
                            api.metric_latency(period=PERIOD, statistic=cw.Stats.p(99)),
                        ],
                        width=6,
                    ),
                )
            )
        )
        dashboard.add_widgets(
            graph(
                title="Lambda errors",
                left=[
                    fn.metric_errors(period=PERIOD, statistic=cw.Stats.SUM, label=n)
                    for n, fn in functions.items()
                ],
                width=8,
            ),
            graph(
                title="Lambda throttles",
                left=[
                    fn.metric_throttles(period=PERIOD, statistic=cw.Stats.SUM, label=n)
                    for n, fn in functions.items()
                ],
                width=8,
            ),
            graph(
                title="Lambda duration p90",
                left=[
                    fn.metric_duration(period=PERIOD, statistic=cw.Stats.p(90), label=n)
                    for n, fn in functions.items()
                ],
                width=8,
            ),
        )
        dashboard.add_widgets(
            cw.SingleValueWidget(
                title="Onboarding funnel",
                metrics=[all_tenants(metric, f"{metric}: {meaning}") for metric, meaning in FUNNEL],
                set_period_to_time_range=True,
                width=12,
            ),
            graph(
                title="Dead-letter queues (messages)",
                left=[
                    queue.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic=cw.Stats.MAXIMUM, label=label
                    )
                    for label, queue in queues.items()
                ],
                width=6,
            ),
            graph(
                title="Stuck tenants (reconciler)",
                left=[self.alarms["stuck-tenants"].metric],
                width=6,
            ),
        )
        dashboard.add_widgets(
            cw.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.values()), width=24)
        )
        return dashboard
