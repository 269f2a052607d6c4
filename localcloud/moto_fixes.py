"""Where moto is less faithful than AWS in ways Tenancy depends on, make it faithful.

- DynamoDB evaluates each conditional write atomically; moto's backend does not lock, so two
  concurrent `attribute_not_exists` writes (over moto server's threads) can both succeed. Writes are
  serialized so the local cloud keeps DynamoDB's guarantee (slug uniqueness, optimistic locking).
- A DynamoDB Query reads one partition; moto's walks (and sorts) every item of the table, so a
  tenant's reads slow down with the number of tenants. Base-table queries read the partition only.
- A cancelled TransactWriteItems leaves no trace on DynamoDB. moto applies each write as it goes and,
  on cancellation, swaps in a deep copy of every table taken before: the table's stream shard is
  replaced too, so a stream reader's iterator keeps reading the old shard (it sees the cancelled
  writes and never again a new one), and every transaction costs time in proportion to everything
  stored. Here a transaction checks every condition first, writes only when all hold, and undoes
  exactly the items it wrote (and their stream records) if a write still fails.
- moto's server finds the service of every request by listing its own package directory and trying
  hundreds of URL patterns; under load that was a large share of each call. Both answers never
  change in a running server, so they are computed once per host.
- An EventBridge target without an input transformer receives the event itself, `account` included;
  moto rebuilt it through a JSON-path template for every target of every event (leaving `account`
  out), a large share of each PutEvents.
- TransactWriteItems honours `ClientRequestToken` as DynamoDB does: the same token within ten
  minutes returns success without writing again (a retry of a transaction that committed), and the
  same token with other parameters is `IdempotentParameterMismatchException`.
- A bucket created by CloudFormation (a silo tenant's stack) gets the template's
  `NotificationConfiguration.EventBridgeConfiguration`: moto ignored it, so a silo tenant's uploads
  never reached EventBridge.
- A browser-style POST upload (a presigned POST) is held to its policy as S3 holds it: moto stored
  whatever came. The policy's `content-length-range` (400 EntityTooLarge / EntityTooSmall), its
  expiration, each condition on a form field (`{"key": ...}`, `["eq"|"starts-with", "$field", v]`)
  and no form field the policy does not name (403 AccessDenied "Invalid according to Policy").
  The signature itself is not checked (moto checks no signature).
"""

from __future__ import annotations

import base64
import copy
import datetime
import functools
import hashlib
import json
import threading
import time
from typing import Any
from xml.sax.saxutils import escape

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
_lock = threading.RLock()
_applied = False
_partition = threading.local()
TOKEN_WINDOW_SECONDS = 600.0  # DynamoDB keeps a client request token for ten minutes
_tokens: dict[tuple[str, str, str], tuple[str, float]] = {}


def serialize_dynamodb_writes() -> None:
    global _applied
    if _applied:
        return
    from moto.dynamodb.models import DynamoDBBackend

    for name in _WRITES:
        original = getattr(DynamoDBBackend, name)

        @functools.wraps(original)
        def locked(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with _lock:
                return __original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, locked)
    _applied = True


def partition_local_queries() -> None:
    from moto.dynamodb.models.table import Table

    if getattr(Table, "_tenancy_partition_local", False):
        return
    original_query, original_all_items = Table.query, Table.all_items

    def all_items(self: Any) -> Any:
        restricted = getattr(_partition, "key", None)
        if restricted is not None and restricted[0] is self:
            partition = self.items.get(restricted[1], {})
            values = partition.values() if self.range_key_attr else [partition]
            return sorted(values, key=lambda item: item.range_key)
        return original_all_items(self)

    @functools.wraps(original_query)
    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name is not None or hash_key is None or not self.range_key_attr:
            return original_query(self, hash_key, *args, **kwargs)
        _partition.key = (self, hash_key)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _partition.key = None

    # Deliberate monkeypatches of moto's typed classes (here and below): hence the ignores.
    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]
    Table._tenancy_partition_local = True  # type: ignore[attr-defined]


def transactions_without_table_copies() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend, "_tenancy_transactions", False):
        return
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    DynamoDBBackend._tenancy_transactions = True  # type: ignore[attr-defined]


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto's TransactWriteItems semantics (validation, reasons, ALL_OLD items), without table copies."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    targets: set[tuple[str, str]] = set()
    reasons: list[tuple[Any, Any, Any]] = []
    writes: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for entry in transact_items:  # 1. check every condition; write nothing
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(entry.items()))
        old: dict[str, Any] | None = None
        try:
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table = self.get_table(op["TableName"])
            if op_type == "Put":
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"][table.range_key_attr]
            else:
                key = op["Key"]
            target = (str(op["TableName"]), str(dict(sorted(key.items()))))
            if target in targets:
                raise MultipleTransactionsException()
            targets.add(target)
            condition = op.get("ConditionExpression")
            if condition is not None:
                current = self.get_item(op["TableName"], key)
                check = get_filter_expression(
                    condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                )
                if not check.expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        old = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=old)
            writes.append((op_type, op, key))
            reasons.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            raise
        except ConditionalCheckFailed as failed:
            reasons.append(("ConditionalCheckFailed", str(failed.message), old))
        except Exception as error:  # a reason of the cancellation, as moto reports it
            reasons.append((type(error).__name__, str(error), None))
    if any(code is not None for code, _, _ in reasons):
        raise TransactionCanceledException(reasons)

    undo: list[tuple[Any, Any, Any, Any, int | None]] = []
    try:  # 2. every condition held: write, keeping what each write replaced
        for op_type, op, key in writes:
            if op_type == "ConditionCheck":
                continue
            table = self.get_table(op["TableName"])
            hash_key, range_key = self.get_keys_value(table, key)
            before = copy.deepcopy(table.get_item(hash_key, range_key))
            shard = table.stream_shard
            undo.append((table, hash_key, range_key, before, len(shard.items) if shard else None))
            names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            if op_type == "Put":
                self.put_item(
                    op["TableName"],
                    op["Item"],
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Delete":
                self.delete_item(
                    op["TableName"], key, expression_attribute_names=names, expression_attribute_values=values
                )
            else:
                self.update_item(
                    op["TableName"],
                    key,
                    update_expression=op["UpdateExpression"],
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
    except Exception as error:
        for table, hash_key, range_key, before, records in reversed(undo):
            _restore(table, hash_key, range_key, before, records)
        if isinstance(error, MockValidationException):
            raise
        failed_at = len(undo) - 1
        raise TransactionCanceledException(
            [
                (type(error).__name__, str(error), None) if i == failed_at else (None, None, None)
                for i in range(len(transact_items))
            ]
        ) from None


def _restore(table: Any, hash_key: Any, range_key: Any, before: Any, records: int | None) -> None:
    """Put one item back as it was before a transaction wrote it, and drop the records it streamed."""
    if range_key is not None:
        partition = table.items[hash_key]
        if before is None:
            partition.pop(range_key, None)
        else:
            partition[range_key] = before
    elif before is None:
        table.items.pop(hash_key, None)
    else:
        table.items[hash_key] = before
    if records is not None and table.stream_shard is not None:
        del table.stream_shard.items[records:]


def client_request_tokens() -> None:
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler, "_tenancy_tokens", False):
        return
    original = DynamoHandler.transact_write_items

    @functools.wraps(original)
    def transact_write_items(self: Any) -> Any:
        token = self.body.get("ClientRequestToken")
        if not token:
            return original(self)
        from moto.dynamodb.exceptions import DynamodbException

        request = json.dumps(self.body.get("TransactItems"), sort_keys=True)
        fingerprint = hashlib.sha256(request.encode()).hexdigest()
        key = (self.current_account, self.region, str(token))
        with _lock:
            now = time.monotonic()
            for stale in [k for k, (_, at) in _tokens.items() if now - at > TOKEN_WINDOW_SECONDS]:
                del _tokens[stale]
            seen = _tokens.get(key)
            if seen is not None:
                if seen[0] != fingerprint:
                    raise DynamodbException(
                        "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
                        "The request uses the same client token as a previous, but non-identical request.",
                    )
                from moto.core.responses import ActionResult

                return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
            result = original(self)
            _tokens[key] = (fingerprint, now)
            return result

    DynamoHandler.transact_write_items = transact_write_items  # type: ignore[method-assign]
    DynamoHandler._tenancy_tokens = True  # type: ignore[attr-defined]


def server_dispatch_once_per_host() -> None:
    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    if getattr(DomainDispatcherApplication, "_tenancy_dispatch", False):
        return
    modules = frozenset(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    original = DomainDispatcherApplication.get_backend_for_host
    known: dict[str | None, Any] = {}

    @functools.wraps(original)
    def get_backend_for_host(self: Any, host: str | None) -> Any:
        if host not in known:
            known[host] = original(self, host)
        return known[host]

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]
    DomainDispatcherApplication._tenancy_dispatch = True  # type: ignore[attr-defined]


_EVENT_FIELDS = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")


def events_delivered_whole() -> None:
    from moto.events.utils import EventTemplateParser

    if getattr(EventTemplateParser, "_tenancy_whole", False):
        return
    original = EventTemplateParser.parse

    def parse(input_template: Any, input_paths_map: Any, event: Any) -> dict[str, Any]:
        if input_template or input_paths_map:
            return original(input_template, input_paths_map, event)
        return {name: copy.deepcopy(event[name]) for name in _EVENT_FIELDS if name in event}

    EventTemplateParser.parse = staticmethod(parse)  # type: ignore[method-assign]
    EventTemplateParser._tenancy_whole = True  # type: ignore[attr-defined]


def cloudformation_bucket_event_bridge() -> None:
    from moto.s3.models import FakeBucket

    if getattr(FakeBucket, "_tenancy_event_bridge", False):
        return
    original = FakeBucket.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(
        cls: Any,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        bucket = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        notifications = cloudformation_json.get("Properties", {}).get("NotificationConfiguration") or {}
        enabled = (notifications.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled")
        if enabled is True or str(enabled).lower() == "true":
            bucket.set_notification_configuration({"EventBridgeConfiguration": {}})
        return bucket

    FakeBucket.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[method-assign, assignment, arg-type]
    FakeBucket._tenancy_event_bridge = True  # type: ignore[attr-defined]


def s3_events_to_the_default_bus_only() -> None:
    """S3 sends a bucket's EventBridge notifications to the account's default bus only; moto hands
    them to the rules of every bus, so the app's own bus saw `Object Created` events no rule of
    ours expects there (and a catch-all rule on it, every object the provisioner writes). The
    event is moto's own (moto.s3.notifications._send_event_bridge_message), sent to the default
    bus's rules only."""
    from moto.s3 import notifications

    if getattr(notifications, "_tenancy_default_bus", False):
        return

    def send(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
        from moto.core.utils import unix_time
        from moto.events.models import events_backends
        from moto.events.utils import _BASE_EVENT_MESSAGE

        try:
            event = copy.deepcopy(_BASE_EVENT_MESSAGE)
            event["detail-type"] = notifications._detail_type(event_name)
            event["source"] = "aws.s3"
            event["account"] = account_id
            event["time"] = unix_time()
            event["region"] = bucket.region_name
            event["resources"] = [bucket.arn]
            event["detail"] = {
                "version": "0",
                "bucket": {"name": bucket.name},
                "object": {
                    "key": key.name,
                    "size": key.size,
                    "eTag": key.etag.replace('"', ""),
                    "version-id": key.version_id,
                    "sequencer": "617f08299329d189",
                },
                "request-id": "N4N7GDK58NMKJ12R",
                "requester": account_id,
                "source-ip-address": "1.2.3.4",
                "reason": event_name.split(":")[1],
            }
            default = events_backends[account_id][bucket.region_name].event_buses.get("default")
            for rule in list(default.rules.values()) if default is not None else []:
                rule.send_to_targets(event, transform_input=False)
        except Exception:  # noqa: S110 (asynchronous in AWS: the object's write succeeds regardless)
            pass

    notifications._send_event_bridge_message = send
    notifications._tenancy_default_bus = True  # type: ignore[attr-defined]


# Form fields S3 does not hold to the policy's conditions.
_UNCONDITIONED_FIELDS = frozenset({"policy", "x-amz-signature", "file", "awsaccesskeyid", "signature"})


def _s3_error(status: int, code: str, message: str, **extra: Any) -> tuple[int, dict[str, str], str]:
    details = "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in extra.items())
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>{details}</Error>"
    )
    return status, {"content-type": "application/xml"}, body


def post_policy_refusal(
    form: dict[str, str], bucket: str, size: int, now: datetime.datetime | None = None
) -> tuple[int, dict[str, str], str] | None:
    """S3's answer to a POST upload its policy does not allow (None: allowed). `form`: the form's
    fields (names as sent), `size`: the file's length."""
    fields = {name.lower(): value for name, value in form.items()}
    denied = "Invalid according to Policy: "
    if "policy" not in fields:
        return _s3_error(403, "AccessDenied", "Access Denied")
    try:
        policy = json.loads(base64.b64decode(fields["policy"]))
        expiration = datetime.datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
        conditions = list(policy["conditions"])
    except (ValueError, KeyError, TypeError):
        return _s3_error(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
    if (now or datetime.datetime.now(datetime.UTC)) > expiration:
        return _s3_error(403, "AccessDenied", denied + "Policy expired.")
    values = {**fields, "bucket": bucket}
    named: set[str] = set()
    for condition in conditions:
        if isinstance(condition, dict):
            [(field, expected)] = condition.items()
            operator, field = "eq", field.lower()
        elif isinstance(condition, list) and condition and condition[0] == "content-length-range":
            _, low, high = condition
            if size > int(high):
                return _s3_error(
                    400,
                    "EntityTooLarge",
                    "Your proposed upload exceeds the maximum allowed size",
                    ProposedSize=size,
                    MaxSizeAllowed=int(high),
                )
            if size < int(low):
                return _s3_error(
                    400,
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size",
                    ProposedSize=size,
                    MinSizeAllowed=int(low),
                )
            continue
        elif isinstance(condition, list) and len(condition) == 3:
            operator, field, expected = (
                condition[0].lower(),
                condition[1].lower().removeprefix("$"),
                condition[2],
            )
        else:
            return _s3_error(
                400, "InvalidPolicyDocument", f"Invalid Policy: Invalid condition {condition!r}."
            )
        named.add(field)
        actual = values.get(field)
        held = actual is not None and (
            actual == expected
            if operator == "eq"
            else operator == "starts-with" and actual.startswith(expected)
        )
        if not held:
            return _s3_error(
                403,
                "AccessDenied",
                denied + f'Policy Condition failed: ["{operator}", "${field}", "{expected}"]',
            )
    extra = sorted(
        name
        for name in fields
        if name not in named | _UNCONDITIONED_FIELDS and not name.startswith("x-ignore-")
    )
    if extra:
        return _s3_error(403, "AccessDenied", denied + f"Extra input fields: {', '.join(extra)}")
    return None


def post_uploads_held_to_their_policy() -> None:
    from moto.s3.responses import S3Response

    if getattr(S3Response, "_tenancy_post_policy", False):
        return
    original = S3Response._bucket_response_post

    @functools.wraps(original)
    def _bucket_response_post(self: Any, request: Any, bucket_name: str) -> Any:
        form = {name: value for name, value in self.form_data.items()}
        if "key" in form and not self.is_delete_keys():
            body = self.raw_body
            size = len(body.encode() if isinstance(body, str) else body or b"")
            refused = post_policy_refusal(form, bucket_name, size)
            if refused is not None:
                return refused
        return original(self, request, bucket_name)

    S3Response._bucket_response_post = _bucket_response_post  # type: ignore[method-assign]
    S3Response._tenancy_post_policy = True  # type: ignore[attr-defined]


def apply() -> None:
    """Every fix above (transactions first, so the write lock wraps the faithful version)."""
    transactions_without_table_copies()
    client_request_tokens()
    serialize_dynamodb_writes()
    partition_local_queries()
    server_dispatch_once_per_host()
    events_delivered_whole()
    cloudformation_bucket_event_bridge()
    s3_events_to_the_default_bus_only()
    post_uploads_held_to_their_policy()
