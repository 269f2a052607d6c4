"""EventBusAndRules: the app's custom event bus, and one rule per topology RuleTrigger delivering the
matching lifecycle events to its function (delivery DLQ, async retries, failure DLQ); and one rule
on the account's default bus per ObjectCreatedTrigger, delivering S3's `Object Created` events of the
pooled bucket and the silo buckets the same way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from tenancy.common.names import EVENT_BUS_SUFFIX

from ..topology import FUNCTIONS, FunctionSpec, ObjectCreatedTrigger, RuleTrigger
from .concern import Concern, camel
from .functions import dead_letter_queue
from .naming import Naming


def event_pattern(pattern: dict[str, Any]) -> events.EventPattern:
    """A topology pattern (`{"source": [...], "detail-type": [...]}`) as an EventPattern, key for key."""
    fields = {"source", "detail_type", "account", "region", "detail", "id", "resources", "time", "version"}
    kwargs: dict[str, Any] = {}
    for key, value in pattern.items():
        attribute = key.replace("-", "_")
        if attribute not in fields:
            raise ValueError(f"unsupported EventBridge pattern field {key!r}")
        kwargs[attribute] = value
    return events.EventPattern(**kwargs)


class EventBusAndRules(Concern):
    """The bus (`event_bus`) first, the rules (`add_rules`) once the functions exist."""

    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming) -> None:
        super().__init__(scope, construct_id)
        self.naming = naming
        self.event_bus = events.EventBus(
            self.stack, "EventBus", event_bus_name=naming.resource(EVENT_BUS_SUFFIX)
        )
        self.rules: dict[str, events.Rule] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}  # per function: its failure DLQ
        self.delivery_dead_letter_queues: dict[str, sqs.Queue] = {}  # per function: its rule's DLQ

    def add_rules(self, functions: Mapping[str, lambda_.Function], *, pool_bucket: s3.IBucket) -> None:
        for spec in FUNCTIONS:
            trigger = spec.trigger
            if isinstance(trigger, RuleTrigger):
                self._rule_target(
                    spec,
                    trigger,
                    functions[spec.name],
                    description=f"{', '.join(trigger.detail_types)} -> {spec.name}",
                    event_bus=self.event_bus,
                    pattern=trigger.pattern(self.naming.app_name),
                )
            elif isinstance(trigger, ObjectCreatedTrigger):
                # The pooled bucket by its name, silo buckets by the prefix CloudFormation names them
                # with (<app>-<stage>-tenant-<tenantId>-bucket-<suffix>); the default bus, where S3
                # sends its events.
                self._rule_target(
                    spec,
                    trigger,
                    functions[spec.name],
                    description=(
                        f"S3 Object Created {trigger.key_prefix}*{trigger.key_suffix} (pool and silo "
                        f"buckets) -> {spec.name}"
                    ),
                    event_bus=None,
                    pattern=trigger.pattern([pool_bucket.bucket_name], [self.naming.silo_prefix]),
                )

    def _rule_target(
        self,
        spec: FunctionSpec,
        trigger: RuleTrigger | ObjectCreatedTrigger,
        function: lambda_.Function,
        *,
        description: str,
        event_bus: events.IEventBus | None,
        pattern: dict[str, Any],
    ) -> None:
        construct_id = camel(spec.name)
        delivery_dlq = dead_letter_queue(
            self.stack,
            f"{construct_id}DeliveryDlq",
            f"events the {trigger.rule} rule could not deliver to {spec.name}",
        )
        failure_dlq = dead_letter_queue(
            self.stack,
            f"{construct_id}FailureDlq",
            f"events {spec.name} still failed after its async retries",
        )
        self.dead_letter_queues[spec.name] = failure_dlq
        self.delivery_dead_letter_queues[spec.name] = delivery_dlq
        max_event_age = Duration.seconds(trigger.max_event_age_seconds)
        rule = events.Rule(
            self.stack,
            f"{trigger.rule}Rule",
            rule_name=self.naming.resource(trigger.rule),
            description=description,
            event_bus=event_bus,
            event_pattern=event_pattern(pattern),
        )
        # EventBridge retries only failed deliveries (throttling, missing permission); the function's
        # own errors are retried by Lambda's asynchronous invocation, configured below.
        rule.add_target(
            targets.LambdaFunction(
                function,
                retry_attempts=trigger.retry_attempts,
                max_event_age=max_event_age,
                dead_letter_queue=delivery_dlq,
            )
        )
        function.configure_async_invoke(
            retry_attempts=trigger.async_retry_attempts,
            max_event_age=max_event_age,
            on_failure=destinations.SqsDestination(failure_dlq),
        )
        self.rules[spec.name] = rule
