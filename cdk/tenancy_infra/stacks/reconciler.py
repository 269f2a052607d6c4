"""ReconcilerSchedule: the reconciler's schedule, one EventBridge rule on the default bus per topology
ScheduleTrigger, with a dead-letter queue for invocations that could not be delivered."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ..topology import FUNCTIONS, FunctionSpec, ScheduleTrigger
from .concern import Concern, camel
from .functions import dead_letter_queue
from .naming import Naming


class ReconcilerSchedule(Concern):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        naming: Naming,
        functions: Mapping[str, lambda_.Function],
    ) -> None:
        super().__init__(scope, construct_id)
        self.naming = naming
        self.rules: dict[str, events.Rule] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        for spec in FUNCTIONS:
            if isinstance(spec.trigger, ScheduleTrigger):
                self._schedule(spec, spec.trigger, functions[spec.name])

    def _schedule(self, spec: FunctionSpec, trigger: ScheduleTrigger, function: lambda_.Function) -> None:
        dlq = dead_letter_queue(
            self.stack,
            f"{camel(spec.name)}ScheduleDlq",
            f"scheduled invocations of {spec.name} that could not be delivered",
        )
        self.dead_letter_queues[spec.name] = dlq
        rule = events.Rule(
            self.stack,
            f"{trigger.rule}Rule",
            rule_name=self.naming.resource(trigger.rule),
            description=f"every {trigger.rate_minutes} minutes -> {spec.name}",
            schedule=events.Schedule.rate(Duration.minutes(trigger.rate_minutes)),
        )
        rule.add_target(
            targets.LambdaFunction(function, retry_attempts=trigger.retry_attempts, dead_letter_queue=dlq)
        )
        # A missed run is covered by the next one: no async retries of a failed reconciliation.
        function.configure_async_invoke(retry_attempts=0)
        self.rules[spec.name] = rule
