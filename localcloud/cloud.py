"""The local cloud: moto in server mode, Tenancy's resources, its functions and their triggers."""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import sys
import threading
import time
import uuid
import warnings
from dataclasses import dataclass, field
from typing import Any

from localcloud.faults import Fault, Faults
from localcloud.gateway import Gateway, serve
from localcloud.livelog import LiveLog
from localcloud.pumps import EventPump, StreamPump
from localcloud.resources import (
    LocalResources,
    create_resources,
    invoked_function_names,
    local_settings,
    settings_environ,
)
from localcloud.runtime import FunctionRuntime
from localcloud.streams import StreamReader
from tenancy.common.names import METRICS_NAMESPACE, resource_name
from tenancy_infra.topology import (
    FUNCTIONS,
    FunctionSpec,
    ObjectCreatedTrigger,
    RuleTrigger,
    ScheduleTrigger,
    StreamTrigger,
)

REGION = "us-east-1"
ACCESS_KEY = "test"
SECRET_KEY = "test"  # noqa: S105 (the local cloud's well-known credentials)
ACCOUNT_ID = "123456789012"
AWS_SERVICES = ("dynamodb", "s3", "ssm", "events", "cloudformation", "sqs", "cognito-idp", "sts")


def scheduled_event(rule_arn: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": REGION,
        "resources": [rule_arn],
        "detail": {},
    }


class PortInUseError(Exception):
    pass


class _WithoutFunctionOutput(io.TextIOBase):
    """stdout without the functions' structured log lines and EMF metric lines."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._partial = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            lines = (self._partial + text).split("\n")
            self._partial = lines.pop()
            for line in lines:
                if not line.startswith(('{"_aws"', '{"level"')):
                    self._stream.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        self._stream.flush()


@dataclass
class Options:
    host: str = "127.0.0.1"
    api_port: int = 3000
    aws_port: int = 4566
    app_name: str = "tenancy"
    stage: str = "local"
    verbose: bool = False
    # The stage's changes to the shipped plans (the `PLANS` setting, JSON), as the CDK context
    # `plans` gives them to a deployed stage.
    plans: str = ""
    # Pumps sleep this long when idle; a function's write or PutEvents wakes them at once, so this
    # only bounds how late a change made from outside (the AWS CLI, a delayed message) is seen.
    idle_seconds: float = 0.5


DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})
# S3 calls that create an object: a bucket with EventBridge notifications sends `Object Created`.
S3_OBJECT_WRITES = frozenset({"PutObject", "CopyObject", "CompleteMultipartUpload"})
STREAM, EVENTS = "stream", "events"


class Activity:
    """Wakes idle pumps when a function makes a call that may give them work: a write to a table
    with a stream wakes the stream pumps, a PutEvents or an object written to S3 the event pumps. Without it every pump polled
    the endpoint many times a second, which kept an idle `make dev` busy and, under load, spent most
    of the AWS endpoint's time on empty polls."""

    def __init__(self, streamed_tables: frozenset[str] = frozenset()) -> None:
        self.streamed_tables = streamed_tables
        self._waiters: dict[str, list[threading.Event]] = {STREAM: [], EVENTS: []}

    def waiter(self, kind: str) -> threading.Event:
        event = threading.Event()
        self._waiters[kind].append(event)
        return event

    def wake(self, *kinds: str) -> None:
        for kind in kinds or tuple(self._waiters):
            for event in self._waiters[kind]:
                event.set()

    def register(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build", self._note)
        client.meta.events.register("after-call", self._after_call)

    def _note(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.name == "PutEvents" or model.name in S3_OBJECT_WRITES:
            context["localcloud_wakes"] = EVENTS
        elif model.name in DYNAMODB_WRITES and self.streamed_tables & _tables_of(params):
            context["localcloud_wakes"] = STREAM

    def _after_call(self, context: dict[str, Any], **_: Any) -> None:
        kind = context.get("localcloud_wakes")
        if kind is not None:
            self.wake(kind)


def _tables_of(params: dict[str, Any]) -> set[str]:
    """The tables a DynamoDB write names (single-item, transaction or batch)."""
    tables = {params["TableName"]} if "TableName" in params else set()
    for item in params.get("TransactItems", []):
        tables |= {op.get("TableName") for op in item.values() if isinstance(op, dict)}
    return tables | set(params.get("RequestItems", {}))


def check_port(host: str, port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise PortInUseError(
                f"port {port} ({what}) is already in use on {host}; choose another"
            ) from None


@dataclass
class LocalCloud:
    options: Options
    log: LiveLog = field(init=False)
    faults: Faults = field(default_factory=Faults)
    resources: LocalResources | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _activity: Activity = field(default_factory=Activity)
    _threads: list[threading.Thread] = field(default_factory=list)
    _servers: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.log = LiveLog(self.options.verbose)
        self.faults = Faults(on_inject=self.log.line)  # the live log shows each injected fault

    @property
    def endpoint(self) -> str:
        return f"http://{self.options.host}:{self.options.aws_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.options.host}:{self.options.api_port}"

    def start(self) -> None:
        opts = self.options
        check_port(opts.host, opts.aws_port, "AWS endpoint")
        check_port(opts.host, opts.api_port, "API Gateway")
        os.environ.pop("AWS_PROFILE", None)
        os.environ.pop("AWS_SESSION_TOKEN", None)
        os.environ.update(
            AWS_ENDPOINT_URL=self.endpoint,
            AWS_ACCESS_KEY_ID=ACCESS_KEY,
            AWS_SECRET_ACCESS_KEY=SECRET_KEY,
            AWS_DEFAULT_REGION=REGION,
            AWS_REGION=REGION,
            AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
            POWERTOOLS_TRACE_DISABLED="true",
            POWERTOOLS_METRICS_NAMESPACE=METRICS_NAMESPACE,
            POWERTOOLS_LOG_LEVEL="INFO" if opts.verbose else "WARNING",
        )
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        warnings.filterwarnings("ignore", message="Tried to parse AWS::S3::BucketPolicy")
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        if not opts.verbose:  # the live log speaks for the functions; --verbose shows their own output
            os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
            sys.stdout = _WithoutFunctionOutput(sys.stdout)

        from localcloud.awsserver import AwsServerProcess

        aws_server = AwsServerProcess(opts.host, opts.aws_port)  # moto, with the fixes, on the other core
        aws_server.start()
        self._servers.append(aws_server)

        import boto3

        settings = local_settings(opts.app_name, opts.stage, REGION, plans=opts.plans)
        self.resources = create_resources(
            lambda service: boto3.client(service, endpoint_url=self.endpoint), settings
        )
        os.environ.update(settings_environ(self.resources.settings))
        # Lambda's Invoke API for InvokeTrigger functions is served by the gateway (gateway.py).
        os.environ["AWS_ENDPOINT_URL_LAMBDA"] = self.api_url

        from tenancy.common.clients import client
        from tenancy.common.clients import reset as reset_clients
        from tenancy.common.config import get_settings

        get_settings.cache_clear()
        reset_clients()
        self._activity.streamed_tables = frozenset(
            resource_name(opts.app_name, opts.stage, spec.trigger.table.suffix)
            for spec in FUNCTIONS
            if isinstance(spec.trigger, StreamTrigger)
        )
        for service in AWS_SERVICES:  # the functions' clients, with the fault and wake-up hooks
            self.faults.register(client(service))
            self._activity.register(client(service))

        runtime = FunctionRuntime(scope=self.faults.scope)
        for spec in FUNCTIONS:  # warm every function once, as provisioned concurrency would
            runtime.module(spec.name)
        self._start_pumps(runtime)
        gateway = Gateway(
            runtime,
            {ACCESS_KEY: SECRET_KEY},
            self.log,
            admin=self._admin,
            invoked_functions=invoked_function_names(opts.app_name, opts.stage),
            region=REGION,
        )
        self._servers.append(serve(gateway, opts.host, opts.api_port))  # last: healthy means ready

    def _start_pumps(self, runtime: FunctionRuntime) -> None:
        import boto3

        assert self.resources is not None
        sqs = boto3.client("sqs", endpoint_url=self.endpoint)
        settings = self.resources.settings
        for spec in FUNCTIONS:
            if isinstance(spec.trigger, StreamTrigger):
                dlq = self.resources.dead_letter_queues[spec.name]
                reader = StreamReader(
                    boto3.client("dynamodb", endpoint_url=self.endpoint),
                    boto3.client("dynamodbstreams", endpoint_url=self.endpoint),
                    resource_name(settings.app_name, settings.stage, spec.trigger.table.suffix),
                    REGION,
                )
                pump = StreamPump(reader, runtime, spec, sqs, dlq, self.log, plan=self.faults.delivery)
                self._loop(STREAM, f"stream:{spec.name}", pump.pump)
            elif isinstance(spec.trigger, RuleTrigger | ObjectCreatedTrigger):
                events = EventPump(
                    boto3.client("sqs", endpoint_url=self.endpoint),
                    self.resources.function_queues[spec.name],
                    self.resources.dead_letter_queues[spec.name],
                    runtime,
                    spec,
                    self.log,
                    plan=self.faults.delivery,
                )
                self._loop(EVENTS, f"events:{spec.name}", events.pump)
            elif isinstance(spec.trigger, ScheduleTrigger):
                self._schedule(runtime, spec, spec.trigger)

    def _schedule(self, runtime: FunctionRuntime, spec: FunctionSpec, trigger: ScheduleTrigger) -> None:
        """Invoke a scheduled function every `rate_minutes`, with EventBridge's Scheduled Event."""

        def run() -> None:
            while not self._stop.wait(trigger.rate_minutes * 60):
                event = scheduled_event(f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{trigger.rule}")
                self.log(runtime.invoke(spec.name, event, spec.timeout_seconds), "schedule", event)

        thread = threading.Thread(target=run, name=f"schedule:{spec.name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _loop(self, kind: str, name: str, pump: Any) -> None:
        woken = self._activity.waiter(kind)

        def run() -> None:
            while not self._stop.is_set():
                woken.clear()  # before pumping: a wake-up during the pump is kept for the wait
                try:
                    moved = pump()
                except Exception as error:  # keep pumping; the log says what went wrong
                    self.log.line(f"pump {name} failed: {type(error).__name__}: {error}")
                    moved = 0
                if not moved:
                    woken.wait(self.options.idle_seconds)

        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _admin(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """The local cloud's own endpoints (unsigned, local only): health and fault injection
        (localcloud/faults.py describes the rules)."""
        if path == "/_localcloud/health" and method == "GET":
            return 200, {"status": "ok", "aws_endpoint": self.endpoint}
        if path == "/_localcloud/faults":
            if method == "GET":
                return 200, {"faults": self.faults.pending(), "injected": self.faults.injected()}
            if method == "DELETE":
                self.faults.clear()
                return 200, {"faults": [], "injected": self.faults.injected()}
            if method == "POST":
                try:
                    fault = Fault.parse(json.loads(body or b"{}"))
                except (ValueError, TypeError) as error:
                    return 400, {"message": str(error)}
                self.faults.add(fault)
                return 201, {"fault": fault.describe()}
        return 404, {"message": "unknown local cloud endpoint"}

    def request_stop(self) -> None:
        self._stop.set()
        self._activity.wake()

    def stop(self) -> None:
        self._stop.set()
        self._activity.wake()
        for thread in self._threads:
            thread.join(timeout=5)
        for server in reversed(self._servers):
            if hasattr(server, "shutdown"):
                server.shutdown()
            if hasattr(server, "stop"):
                server.stop()

    def wait(self) -> None:
        while not self._stop.is_set():
            time.sleep(0.5)
