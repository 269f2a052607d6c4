"""Read a DynamoDB stream from the endpoint and hand out records in Lambda's event format."""

from __future__ import annotations

from typing import Any


class StreamReader:
    """Follows every shard of one table's stream from TRIM_HORIZON, remembering its position."""

    def __init__(self, dynamodb: Any, streams: Any, table_name: str, region: str) -> None:
        self._streams = streams
        self._region = region
        self.arn = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self._iterators: dict[str, str | None] = {}

    def poll(self, limit: int = 100) -> list[dict[str, Any]]:
        shards = self._streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        records: list[dict[str, Any]] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._streams.get_shard_iterator(
                    StreamArn=self.arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            iterator = self._iterators[shard_id]
            if iterator is None:
                continue
            response = self._streams.get_records(ShardIterator=iterator, Limit=limit)
            self._iterators[shard_id] = response.get("NextShardIterator")
            records += [self.lambda_record(record) for record in response["Records"]]
        return records

    def lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        """One record as Lambda's event source mapping delivers it."""
        change = dict(record["dynamodb"])
        created = change.get("ApproximateCreationDateTime")
        if created is not None and not isinstance(created, (int, float)):
            change["ApproximateCreationDateTime"] = int(created.timestamp())
        return {
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "eventVersion": record.get("eventVersion", "1.1"),
            "eventSource": "aws:dynamodb",
            "awsRegion": record.get("awsRegion", self._region),
            "dynamodb": change,
            "eventSourceARN": self.arn,
        }
