"""The read model's order summaries: what GET /orders lists, folded from an order's events.

Pure: no storage here. A summary carries the version of the last event folded into it, so
the consumer of the event store's stream (functions/views) can tell, per record, whether
it is the next event of the order (fold it), one already folded (a repeated or late
record: nothing to do), or one past a gap (a record lost or not yet seen: rebuild the
summary from the order's stream instead). The status is the one ``Order.rebuild`` gives;
tests/unit/test_order_summaries.py holds the two together on every saga path.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from order_saga.adapters.event_store import RecordedEvent

ORDER_STREAM_PREFIX = "order#"

STATUS_AFTER: dict[str, str] = {
    "OrderCreated": "PENDING",
    "PaymentProcessing": "PAYMENT_PROCESSING",
    "PaymentCompleted": "PAYMENT_COMPLETED",
    "InventoryReserved": "INVENTORY_RESERVED",
    "OrderConfirmed": "CONFIRMED",
    "OrderCancelled": "CANCELLED",
    "OrderShipped": "SHIPPED",
}
"""The events that move an order's status (Order._apply); every other event keeps it."""

MANUAL_REVIEW = "MANUAL_REVIEW"
"""Not a status: a compensation gave up and the order waits for an operator (it has a
CompensationFailed and no OrderCancelled after it, as Order.compensation_failure)."""


@dataclass(frozen=True)
class OrderSummary:
    order_id: str
    customer_id: str
    status: str
    total: Decimal
    item_count: int
    """Units ordered, over all lines."""
    created_at: str
    """ISO 8601, the OrderCreated event's time."""
    updated_at: str
    """ISO 8601, the time of the last event folded in."""
    version: int
    """The order stream's version this summary reflects."""
    manual_review: bool = False


class Fold(StrEnum):
    NEXT = "next"
    """The record is the order's next event: fold it in."""
    SEEN = "seen"
    """Already folded (a record delivered again, or late): the summary stays as it is."""
    GAP = "gap"
    """Events before it are missing from the summary: rebuild it from the stream."""


def wants(record: RecordedEvent) -> bool:
    return record.stream_id.startswith(ORDER_STREAM_PREFIX)


def order_id_of(record: RecordedEvent) -> str:
    return record.stream_id.removeprefix(ORDER_STREAM_PREFIX)


def place(summary: OrderSummary | None, record: RecordedEvent) -> Fold:
    """Where ``record`` stands against ``summary`` (None: the order has none yet)."""
    have = summary.version if summary is not None else 0
    if record.version <= have:
        return Fold.SEEN
    if record.version == have + 1:
        return Fold.NEXT
    return Fold.GAP


def fold(summary: OrderSummary | None, record: RecordedEvent) -> OrderSummary:
    """The summary after ``record``, the next event of its order (``place`` said NEXT)."""
    if summary is None:
        if record.event_type != "OrderCreated" or record.version != 1:
            raise ValueError(
                f"{record.stream_id} v{record.version} ({record.event_type}): an order's "
                "summary starts at its OrderCreated, version 1"
            )
        items = record.data["items"]
        return OrderSummary(
            order_id=record.data["order_id"],
            customer_id=record.data["customer_id"],
            status=STATUS_AFTER["OrderCreated"],
            total=Decimal(str(record.data["total"])),
            item_count=sum(int(item["quantity"]) for item in items),
            created_at=record.occurred_at.isoformat(),
            updated_at=record.occurred_at.isoformat(),
            version=1,
        )
    if record.version != summary.version + 1:
        raise ValueError(
            f"{record.stream_id} v{record.version} does not follow the summary's v{summary.version}"
        )
    manual_review = summary.manual_review
    if record.event_type == "CompensationFailed":
        manual_review = True
    elif record.event_type == "OrderCancelled":
        manual_review = False
    return replace(
        summary,
        status=STATUS_AFTER.get(record.event_type, summary.status),
        updated_at=record.occurred_at.isoformat(),
        version=record.version,
        manual_review=manual_review,
    )


def summarise(records: Iterable[RecordedEvent]) -> OrderSummary | None:
    """The summary of an order's whole stream (oldest first); None for no events."""
    summary: OrderSummary | None = None
    for record in records:
        summary = fold(summary, record)
    return summary
