"""The read model port (order summaries for GET /orders), in memory and on DynamoDB.

One item per order, keyed by order_id, written only by the views consumer of the event
store's stream and by the rebuild command (ops/rebuild_views.py). Every write is
conditional on the stored summary being older (its version lower, or equal for a rebuild
that rewrites what it already has), so a late or repeated record never moves an order's
summary backwards, whoever writes.

Lists are newest first; each index sorts on ``listed_at`` (created time, then order id, so
two orders of the same instant keep one order). The cursor names the query it belongs to
and where the page ended; nothing in it widens what a caller may read, since the caller's
customer id is never taken from it.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from order_saga.errors import InvalidCursor, StorageError
from order_saga.service_layer.order_summaries import MANUAL_REVIEW, OrderSummary

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mypy_boto3_dynamodb import DynamoDBClient

CURSOR_VERSION = 1


@dataclass(frozen=True)
class OrderQuery:
    """Which orders: one customer's or everyone's, optionally of one status (or in
    manual review, MANUAL_REVIEW)."""

    customer_id: str | None = None
    status: str | None = None

    def matches(self, summary: OrderSummary) -> bool:
        if self.customer_id is not None and summary.customer_id != self.customer_id:
            return False
        if self.status == MANUAL_REVIEW:
            return summary.manual_review
        return self.status is None or summary.status == self.status

    def fingerprint(self) -> str:
        return f"{self.customer_id or '*'}/{self.status or '*'}"


def listed_at(summary: OrderSummary) -> str:
    return f"{summary.created_at}#{summary.order_id}"


def encode_cursor(query: OrderQuery, after: str) -> str:
    payload = json.dumps({"v": CURSOR_VERSION, "q": query.fingerprint(), "after": after})
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(query: OrderQuery, cursor: str) -> str:
    """The ``listed_at`` the cursor's page ended at; InvalidCursor for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw.decode())
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursor("cursor: not a cursor this API gave out") from exc
    if (
        not isinstance(payload, dict)
        or set(payload) != {"v", "q", "after"}
        or payload["v"] != CURSOR_VERSION
        or not isinstance(payload["after"], str)
        or not isinstance(payload["q"], str)
    ):
        raise InvalidCursor("cursor: not a cursor this API gave out")
    if payload["q"] != query.fingerprint():
        raise InvalidCursor("cursor: it continues another list (other customer or status)")
    order_id = payload["after"].rpartition("#")[2]
    if not order_id or "#" not in payload["after"] or len(payload["after"]) > 200:
        raise InvalidCursor("cursor: not a cursor this API gave out")
    return str(payload["after"])


@dataclass(frozen=True)
class OrderPage:
    summaries: list[OrderSummary]
    next_cursor: str | None


class ReadModel(ABC):
    @abstractmethod
    def get(self, order_id: str) -> OrderSummary | None: ...

    @abstractmethod
    def put(self, summary: OrderSummary, *, rewrite: bool = False) -> bool:
        """Keep ``summary`` unless the stored one is newer (``rewrite``: or as new);
        True if written."""

    @abstractmethod
    def page(self, query: OrderQuery, limit: int, cursor: str | None = None) -> OrderPage:
        """Up to ``limit`` summaries matching ``query``, newest first, after ``cursor``.
        A page may hold fewer than ``limit`` while ``next_cursor`` is set (a filtered
        index); None once there is no more."""

    @abstractmethod
    def scan(self) -> Iterator[OrderSummary]:
        """Every summary: for the rebuild check and the invariants, never for a request."""

    @abstractmethod
    def delete(self, order_id: str) -> None: ...


class InMemoryReadModel(ReadModel):
    def __init__(self) -> None:
        self._items: dict[str, OrderSummary] = {}
        self._lock = threading.Lock()

    def get(self, order_id: str) -> OrderSummary | None:
        with self._lock:
            return self._items.get(order_id)

    def put(self, summary: OrderSummary, *, rewrite: bool = False) -> bool:
        with self._lock:
            kept = self._items.get(summary.order_id)
            if kept is not None and (
                kept.version > summary.version or (kept.version == summary.version and not rewrite)
            ):
                return False
            self._items[summary.order_id] = summary
            return True

    def page(self, query: OrderQuery, limit: int, cursor: str | None = None) -> OrderPage:
        after = decode_cursor(query, cursor) if cursor is not None else None
        with self._lock:
            chosen = sorted(
                (s for s in self._items.values() if query.matches(s)), key=listed_at, reverse=True
            )
        if after is not None:
            chosen = [s for s in chosen if listed_at(s) < after]
        page = chosen[:limit]
        more = len(chosen) > limit
        return OrderPage(page, encode_cursor(query, listed_at(page[-1])) if more else None)

    def scan(self) -> Iterator[OrderSummary]:
        with self._lock:
            items = list(self._items.values())
        yield from items

    def delete(self, order_id: str) -> None:
        with self._lock:
            self._items.pop(order_id, None)


# Index name -> (its partition key attribute, how a query fills it in).
INDEXES = {
    "by_customer": "customer_id",
    "by_customer_status": "customer_status",
    "by_status": "status",
    "in_review": "review",
}


def index_for(query: OrderQuery) -> tuple[str, str | None, str | None]:
    """(index, its partition key value, a customer to filter on) for ``query``; None for
    the key value means the whole table, which a request never asks for."""
    if query.status == MANUAL_REVIEW:
        # Sparse: only orders in review carry "review"; few, so a customer is a filter.
        return "in_review", MANUAL_REVIEW, query.customer_id
    if query.customer_id is not None and query.status is not None:
        return "by_customer_status", f"{query.customer_id}#{query.status}", None
    if query.customer_id is not None:
        return "by_customer", query.customer_id, None
    if query.status is not None:
        return "by_status", query.status, None
    return "", None, None


class DynamoDBReadModel(ReadModel):
    """The ReadModelTable: key order_id; indexes by_customer, by_customer_status,
    by_status and in_review (sparse), each sorted on listed_at."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self.table_name = table_name
        self._client = client

    def get(self, order_id: str) -> OrderSummary | None:
        try:
            item = self._client.get_item(
                TableName=self.table_name,
                Key={"order_id": {"S": order_id}},
                ConsistentRead=True,
            ).get("Item")
        except ClientError as exc:
            raise StorageError(f"reading the read model failed: {exc}") from exc
        return summary_from_item(item) if item else None

    def put(self, summary: OrderSummary, *, rewrite: bool = False) -> bool:
        older = "version <= :v" if rewrite else "version < :v"
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item=item_from_summary(summary),
                ConditionExpression=f"attribute_not_exists(order_id) OR {older}",
                ExpressionAttributeValues={":v": {"N": str(summary.version)}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise StorageError(f"writing the read model failed: {exc}") from exc
        return True

    def page(self, query: OrderQuery, limit: int, cursor: str | None = None) -> OrderPage:
        index, key_value, customer_filter = index_for(query)
        if key_value is None:
            raise ValueError("a list names a customer, a status or both")
        key_attribute = INDEXES[index]
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": index,
            "KeyConditionExpression": "#k = :k",
            "ExpressionAttributeNames": {"#k": key_attribute},
            "ExpressionAttributeValues": {":k": {"S": key_value}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if customer_filter is not None:
            request["FilterExpression"] = "customer_id = :c"
            request["ExpressionAttributeValues"][":c"] = {"S": customer_filter}
        if cursor is not None:
            after = decode_cursor(query, cursor)
            request["ExclusiveStartKey"] = {
                "order_id": {"S": after.rpartition("#")[2]},
                "listed_at": {"S": after},
                key_attribute: {"S": key_value},
            }
        try:
            answer = self._client.query(**request)
        except ClientError as exc:
            raise StorageError(f"reading the read model failed: {exc}") from exc
        summaries = [summary_from_item(item) for item in answer["Items"]]
        last = answer.get("LastEvaluatedKey")
        return OrderPage(summaries, encode_cursor(query, last["listed_at"]["S"]) if last else None)

    def scan(self) -> Iterator[OrderSummary]:
        request: dict[str, Any] = {"TableName": self.table_name, "ConsistentRead": True}
        while True:
            try:
                answer = self._client.scan(**request)
            except ClientError as exc:
                raise StorageError(f"reading the read model failed: {exc}") from exc
            yield from (summary_from_item(item) for item in answer["Items"])
            if "LastEvaluatedKey" not in answer:
                return
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def delete(self, order_id: str) -> None:
        try:
            self._client.delete_item(TableName=self.table_name, Key={"order_id": {"S": order_id}})
        except ClientError as exc:
            raise StorageError(f"writing the read model failed: {exc}") from exc


def item_from_summary(summary: OrderSummary) -> dict[str, Any]:
    item: dict[str, Any] = {
        "order_id": {"S": summary.order_id},
        "customer_id": {"S": summary.customer_id},
        "status": {"S": summary.status},
        "customer_status": {"S": f"{summary.customer_id}#{summary.status}"},
        "total": {"N": str(summary.total)},
        "item_count": {"N": str(summary.item_count)},
        "created_at": {"S": summary.created_at},
        "updated_at": {"S": summary.updated_at},
        "listed_at": {"S": listed_at(summary)},
        "version": {"N": str(summary.version)},
        "manual_review": {"BOOL": summary.manual_review},
    }
    if summary.manual_review:
        item["review"] = {"S": MANUAL_REVIEW}
    return item


def summary_from_item(item: dict[str, Any]) -> OrderSummary:
    return OrderSummary(
        order_id=item["order_id"]["S"],
        customer_id=item["customer_id"]["S"],
        status=item["status"]["S"],
        total=Decimal(item["total"]["N"]),
        item_count=int(item["item_count"]["N"]),
        created_at=item["created_at"]["S"],
        updated_at=item["updated_at"]["S"],
        version=int(item["version"]["N"]),
        manual_review=bool(item.get("manual_review", {}).get("BOOL", False)),
    )


def summary_json(summary: OrderSummary) -> dict[str, Any]:
    data = asdict(summary)
    data["total"] = str(summary.total)
    return data
