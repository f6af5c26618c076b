"""The orders created in a window of time, for the reconciler: on DynamoDB through the
event store's sparse ``OrdersByDay`` index (only an order's OrderCreated item carries its
day), in memory from the store itself."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from order_saga.adapters.dynamodb_event_store import ORDERS_BY_DAY_INDEX, ORDERS_BY_DAY_KEY
from order_saga.errors import StorageError

if TYPE_CHECKING:
    from datetime import datetime

    from mypy_boto3_dynamodb import DynamoDBClient

    from order_saga.adapters.event_store import EventStore

ORDER_PREFIX = "order#"


class RecentOrders(ABC):
    @abstractmethod
    def created_between(self, start: datetime, end: datetime) -> list[str]:
        """Ids of the orders whose OrderCreated occurred in [start, end], oldest first."""


class DynamoDBRecentOrders(RecentOrders):
    """One Query per UTC day of the window on the index (eventually consistent, as every
    index read is: an order written a moment ago may be missing, and the next run finds it)."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self.table_name = table_name
        self._client = client

    def created_between(self, start: datetime, end: datetime) -> list[str]:
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        found: list[str] = []
        day = start.date()
        while day <= end.date():
            found += self._query(day.isoformat(), _stamp(start), _stamp(end))
            day += timedelta(days=1)
        return found

    def _query(self, day: str, start: str, end: str) -> list[str]:
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": ORDERS_BY_DAY_INDEX,
            "KeyConditionExpression": "#day = :day AND occurred_at BETWEEN :start AND :end",
            "ExpressionAttributeNames": {"#day": ORDERS_BY_DAY_KEY},
            "ExpressionAttributeValues": {
                ":day": {"S": day},
                ":start": {"S": start},
                ":end": {"S": end},
            },
        }
        ids: list[str] = []
        try:
            while True:
                page = self._client.query(**query)
                ids += [item["stream_id"]["S"].removeprefix(ORDER_PREFIX) for item in page["Items"]]
                if "LastEvaluatedKey" not in page:
                    return ids
                query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "unknown")
            raise StorageError(f"listing the orders of {day} failed: {code}") from exc


class InMemoryRecentOrders(RecentOrders):
    def __init__(self, store: EventStore) -> None:
        self.store = store

    def created_between(self, start: datetime, end: datetime) -> list[str]:
        created = []
        for stream in self.store.stream_ids(ORDER_PREFIX):
            first = self.store.load(stream)[:1]
            if first and start <= first[0].occurred_at <= end:
                created.append((first[0].occurred_at, stream.removeprefix(ORDER_PREFIX)))
        return [order_id for _, order_id in sorted(created)]


def _stamp(moment: datetime) -> str:
    """As the store writes occurred_at, so that the strings compare as the times do."""
    return moment.isoformat(timespec="milliseconds")
