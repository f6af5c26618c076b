"""The event store on one DynamoDB table: key (stream_id, version), stream enabled.

Snapshots, when a snapshot table is given, live in a table of their own keyed by
stream_id (one item per stream, the newest): they are derived data, so they stay out
of the event table and out of its stream, which the async consumers read.

Stock counters live in the stock table, one item per product (key product_id, attribute
available), changed in the same TransactWriteItems as the events they go with: each
change an Update with its condition (a Put for a new counter), the counter's item never
read first. A transaction that finds a counter in another's commit (reason
TransactionConflict) is sent again, unchanged, after a short random wait, a few times
within CONTENTION_BUDGET seconds, then reported as StockContended.
"""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from order_saga import strict_json
from order_saga.adapters.event_store import EventStore, RecordedEvent, Snapshot, utc_now
from order_saga.errors import ConcurrencyError, InsufficientStock, StockContended, StorageError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from mypy_boto3_dynamodb import DynamoDBClient

    from order_saga.adapters.event_store import StockChange

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
_NEW_KEY = "attribute_not_exists(version)"
_CONFLICT_REASONS = {"ConditionalCheckFailed", "TransactionConflict"}
ORDERS_BY_DAY_INDEX = "OrdersByDay"
ORDERS_BY_DAY_KEY = "orders_created_on"
ORDER_INDEXED_EVENT = "OrderCreated"
CONTENTION_ATTEMPTS = 8
CONTENTION_BASE = 0.01
CONTENTION_CAP = 0.2
"""Full-jitter backoff (seconds) between the sends of a transaction that met a conflict:
at most 0.01, 0.02, 0.04 ... 0.2 s, 8 sends in all, about 0.7 s at worst."""
_CHANGES = {
    "take": ("SET available = available - :q", "available >= :q"),
    "give": ("SET available = available + :q", "attribute_exists(product_id)"),
    "add": ("SET available = available + :q", "attribute_exists(product_id)"),
}


class DynamoDBEventStore(EventStore):
    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient,
        clock: Callable[[], datetime] = utc_now,
        snapshot_table: str | None = None,
        stock_table: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(clock)
        self.table_name = table_name
        self.snapshot_table = snapshot_table
        self.stock_table = stock_table
        self._client = client
        self._sleep = sleep

    def load(self, stream_id: str, after_version: int = 0) -> list[RecordedEvent]:
        records: list[RecordedEvent] = []
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "stream_id = :s AND version > :v",
            "ExpressionAttributeValues": {
                ":s": {"S": stream_id},
                ":v": {"N": str(max(after_version, 0))},
            },
            "ConsistentRead": True,
        }
        try:
            while True:
                page = self._client.query(**query)
                records.extend(record_from_item(item) for item in page["Items"])
                if "LastEvaluatedKey" not in page:
                    return records
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except ClientError as exc:
            raise StorageError(f"loading stream {stream_id} failed: {_code(exc)}") from exc

    def load_snapshot(self, stream_id: str) -> Snapshot | None:
        if self.snapshot_table is None:
            return None
        try:
            # Eventually consistent is enough: an older snapshot is still a true one,
            # and the events after it are read strongly consistent.
            item = self._client.get_item(
                TableName=self.snapshot_table, Key={"stream_id": {"S": stream_id}}
            ).get("Item")
        except ClientError as exc:
            raise StorageError(f"loading the snapshot of {stream_id} failed: {_code(exc)}") from exc
        if item is None:
            return None
        return Snapshot(
            stream_id=stream_id,
            version=int(item["version"]["N"]),
            schema_version=int(item["schema_version"]["N"]),
            state=_state(item["state"]),
            taken_at=datetime.fromisoformat(item["taken_at"]["S"]),
        )

    def save_snapshot(self, snapshot: Snapshot) -> bool:
        if self.snapshot_table is None:
            return False
        try:
            self._client.put_item(
                TableName=self.snapshot_table,
                Item={
                    "stream_id": {"S": snapshot.stream_id},
                    "version": {"N": str(snapshot.version)},
                    "schema_version": {"N": str(snapshot.schema_version)},
                    # One JSON string, not a map: the SDK parses a map attribute by
                    # attribute, and a stock's state has one per open reservation (the
                    # map took four fifths of a 1,000-reservation snapshot's load).
                    "state": {"S": json.dumps(snapshot.state, separators=(",", ":"))},
                    "taken_at": {"S": snapshot.taken_at.isoformat(timespec="milliseconds")},
                },
                # Never replace a newer snapshot with an older one.
                ConditionExpression="attribute_not_exists(stream_id) OR version < :v",
                ExpressionAttributeValues={":v": {"N": str(snapshot.version)}},
            )
        except ClientError as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                return False
            raise StorageError(
                f"saving a snapshot of {snapshot.stream_id} failed: {_code(exc)}"
            ) from exc
        return True

    def stream_ids(self, prefix: str = "") -> list[str]:
        """A paginated Scan that reads only the key's stream_id (every version of every
        stream is read: the table has no index of streams)."""
        scan: dict[str, Any] = {
            "TableName": self.table_name,
            "ProjectionExpression": "stream_id",
            "ConsistentRead": True,
        }
        if prefix:
            scan["FilterExpression"] = "begins_with(stream_id, :p)"
            scan["ExpressionAttributeValues"] = {":p": {"S": prefix}}
        streams: set[str] = set()
        try:
            while True:
                page = self._client.scan(**scan)
                streams.update(item["stream_id"]["S"] for item in page["Items"])
                if "LastEvaluatedKey" not in page:
                    return sorted(streams)
                scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except ClientError as exc:
            raise StorageError(f"listing the streams failed: {_code(exc)}") from exc

    def stock_levels(self, product_ids: Iterable[str]) -> dict[str, int]:
        wanted = sorted(set(product_ids))
        if not wanted or self.stock_table is None:
            return {}
        levels: dict[str, int] = {}
        try:
            for start in range(0, len(wanted), 100):  # BatchGetItem's limit
                request: Any = {
                    self.stock_table: {
                        "Keys": [{"product_id": {"S": p}} for p in wanted[start : start + 100]],
                        "ProjectionExpression": "product_id, available",
                    }
                }
                while request:
                    page = self._client.batch_get_item(RequestItems=request)
                    for item in page["Responses"].get(self.stock_table, []):
                        levels[item["product_id"]["S"]] = int(item["available"]["N"])
                    request = page.get("UnprocessedKeys") or None
        except ClientError as exc:
            raise StorageError(f"reading stock counters failed: {_code(exc)}") from exc
        return levels

    def _write(self, records: list[RecordedEvent], stock: Sequence[StockChange] = ()) -> None:
        items = [item_from_record(record) for record in records]
        if stock and self.stock_table is None:
            raise StorageError("this event store has no stock table for stock counters")
        try:
            if len(items) == 1 and not stock:
                # One event costs one write unit as a Put, two inside a transaction.
                self._client.put_item(
                    TableName=self.table_name, Item=items[0], ConditionExpression=_NEW_KEY
                )
            else:
                self._transact(
                    [
                        {
                            "Put": {
                                "TableName": self.table_name,
                                "Item": item,
                                "ConditionExpression": _NEW_KEY,
                            }
                        }
                        for item in items
                    ]
                    + [self._change(change) for change in stock]
                )
        except ClientError as exc:
            raise self._refusal(exc, records, stock) from exc

    def _transact(self, entries: list[dict[str, Any]]) -> None:
        """Send the transaction; again, unchanged, after a random wait while it only met
        another transaction on a stock counter (nothing was written each time)."""
        for attempt in range(CONTENTION_ATTEMPTS):
            try:
                self._client.transact_write_items(TransactItems=entries)  # type: ignore[arg-type]
                return
            except ClientError as exc:
                if attempt == CONTENTION_ATTEMPTS - 1 or not self._contended(exc, entries):
                    raise
            self._sleep(random.uniform(0, min(CONTENTION_CAP, CONTENTION_BASE * 2**attempt)))

    def _change(self, change: StockChange) -> dict[str, Any]:
        key = {"product_id": {"S": change.product_id}}
        quantity = {":q": {"N": str(change.quantity)}}
        if change.kind == "open":
            return {
                "Put": {
                    "TableName": self.stock_table,
                    "Item": {**key, "available": quantity[":q"]},
                    "ConditionExpression": "attribute_not_exists(product_id)",
                }
            }
        update, condition = _CHANGES[change.kind]
        return {
            "Update": {
                "TableName": self.stock_table,
                "Key": key,
                "UpdateExpression": update,
                "ConditionExpression": condition,
                "ExpressionAttributeValues": quantity,
                # A failed condition returns the counter as it was: what is available,
                # with no read of its own.
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _contended(self, exc: ClientError, entries: list[dict[str, Any]]) -> bool:
        """Cancelled for a conflict on a counter only (no condition failed)."""
        if _code(exc) != "TransactionCanceledException":
            return False
        reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
        if "ConditionalCheckFailed" in reasons or len(reasons) != len(entries):
            return False
        return any(
            code == "TransactionConflict" and _table(entry) == self.stock_table
            for code, entry in zip(reasons, entries, strict=True)
        )

    def _refusal(
        self, exc: ClientError, records: list[RecordedEvent], stock: Sequence[StockChange]
    ) -> Exception:
        """The named error for a write DynamoDB refused."""
        code = _code(exc)
        streams = sorted({r.stream_id for r in records})
        if code in ("ConditionalCheckFailedException", "TransactionConflictException"):
            return ConcurrencyError(f"another writer appended to {streams} first")
        if code != "TransactionCanceledException":
            return StorageError(f"appending to the event store failed: {code}")
        reasons = exc.response.get("CancellationReasons", [])
        events, changes = reasons[: len(records)], reasons[len(records) :]
        if any(r.get("Code") in _CONFLICT_REASONS for r in events):
            return ConcurrencyError(f"another writer appended to {streams} first")
        if any(
            r.get("Code") == "ConditionalCheckFailed" and c.kind == "open"
            for r, c in zip(changes, stock, strict=False)
        ):
            return ConcurrencyError("another writer opened a stock counter first")
        short = {
            c.product_id: _available(r.get("Item"))
            for r, c in zip(changes, stock, strict=False)
            if r.get("Code") == "ConditionalCheckFailed"
        }
        if short:
            return InsufficientStock(short)
        if any(r.get("Code") == "TransactionConflict" for r in changes):
            products = sorted(c.product_id for c in stock)
            return StockContended(f"the stock of {products} stayed contended; nothing written")
        return StorageError(f"appending to the event store failed: {code} {reasons}")


def item_from_record(record: RecordedEvent) -> dict[str, Any]:
    """The stored item, in DynamoDB's attribute-value form (as a stream's NewImage holds it).
    An order's first event also carries its UTC day, the key of the sparse OrdersByDay
    index (adapters/recent_orders.py)."""
    item = {
        "stream_id": {"S": record.stream_id},
        "version": {"N": str(record.version)},
        "event_type": {"S": record.event_type},
        "schema_version": {"N": str(record.schema_version)},
        "occurred_at": {"S": record.occurred_at.isoformat(timespec="milliseconds")},
        "correlation_id": {"S": record.correlation_id},
        "data": _serializer.serialize(record.data),
    }
    if record.event_type == ORDER_INDEXED_EVENT and record.version == 1:
        item[ORDERS_BY_DAY_KEY] = {"S": record.occurred_at.astimezone(UTC).date().isoformat()}
    return item


def record_from_item(item: Mapping[str, Any]) -> RecordedEvent:
    """A stored item (a Query result, or a stream record's NewImage) back as the event.
    Raises KeyError, TypeError or ValueError when the item is not one this store wrote."""
    return RecordedEvent(
        stream_id=item["stream_id"]["S"],
        version=int(item["version"]["N"]),
        event_type=item["event_type"]["S"],
        schema_version=int(item["schema_version"]["N"]),
        occurred_at=datetime.fromisoformat(item["occurred_at"]["S"]),
        correlation_id=item["correlation_id"]["S"],
        data=_plain(_deserializer.deserialize(item["data"])),
    )


def _state(attribute: Any) -> dict[str, Any]:
    """A snapshot's state: a JSON string, or a map as the first snapshots were written."""
    if "S" in attribute:
        return dict(strict_json.loads(attribute["S"]))
    return dict(_plain(_deserializer.deserialize(attribute)))


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; the events hold only whole numbers there
    (money travels as strings), so turn them back into int."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "unknown"))


def _table(entry: Mapping[str, Any]) -> str | None:
    ((_, op),) = entry.items()
    return op.get("TableName")


def _available(item: Mapping[str, Any] | None) -> int | None:
    """A counter's units from a cancellation reason's item (None: there was no counter)."""
    if not item or "available" not in item:
        return None
    return int(item["available"]["N"])
