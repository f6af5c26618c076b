"""Which streams of the event store changed since last asked, read from the table's own
DynamoDB stream (every write lands there, the saga's, a test's or a raw PutItem).

An invariant check after every end-to-end test reloads only those streams instead of
scanning a store that grows all session (ops.invariants.checker.InvariantChecker keeps
the rest).
The store only appends, so a record that modifies or removes an item is reported too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3


@dataclass
class Changes:
    streams: set[str] = field(default_factory=set)
    """Stream ids written to."""
    rewritten: list[str] = field(default_factory=list)
    """'<stream id> v<version>: MODIFY' for each item changed or removed: never by the saga."""


class StoreWatch:
    def __init__(self, table_name: str) -> None:
        described = boto3.client("dynamodb").describe_table(TableName=table_name)
        self._arn = str(described["Table"]["LatestStreamArn"])
        self._client = boto3.client("dynamodbstreams")
        self._after: dict[str, str] = {}
        """Shard id -> the last sequence number read."""

    def changes(self) -> Changes:
        """Everything written since the previous call (since the table was made, at first)."""
        changes = Changes()
        shards = self._client.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
        for shard in (s["ShardId"] for s in shards):
            for record in self._read(shard):
                keys = record["dynamodb"]["Keys"]
                stream_id = keys["stream_id"]["S"]
                changes.streams.add(stream_id)
                if record["eventName"] != "INSERT":
                    version = keys["version"]["N"]
                    changes.rewritten.append(f"{stream_id} v{version}: {record['eventName']}")
                self._after[shard] = record["dynamodb"]["SequenceNumber"]
        return changes

    def _read(self, shard: str) -> list[dict[str, Any]]:
        after = self._after.get(shard)
        position: dict[str, Any] = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
            if after
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        iterator = self._client.get_shard_iterator(StreamArn=self._arn, ShardId=shard, **position)[
            "ShardIterator"
        ]
        records: list[dict[str, Any]] = []
        while iterator:
            page = self._client.get_records(ShardIterator=iterator, Limit=1000)
            if not page["Records"]:
                return records
            records.extend(page["Records"])
            iterator = page.get("NextShardIterator")
        return records
