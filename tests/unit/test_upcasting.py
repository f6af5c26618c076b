"""Events are read through their schema version: an event stored in an older shape is
read back as its class is today, and the store keeps it as it was written."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

import pytest

from order_saga.adapters.event_publisher import event_detail
from order_saga.adapters.event_store import InMemoryEventStore, RecordedEvent
from order_saga.domain.events import (
    EVENT_TYPES,
    CancellationRequested,
    DomainEvent,
    PaymentFailed,
    event_from_data,
)
from order_saga.domain.order import Order
from order_saga.domain.payment import PaymentStatus
from order_saga.domain.upcasting import missing_upcasters, upcast

V1_DECLINED = {"order_id": "order-1", "amount": "12.50", "reason": "card declined"}
V1_ABANDONED = {
    "order_id": "order-1",
    "amount": "12.50",
    "reason": "abandoned: the charge never went through",
}


def stored(version: int, event_type: str, data: dict[str, Any], schema: int) -> RecordedEvent:
    return RecordedEvent(
        stream_id="order#order-1",
        version=version,
        event_type=event_type,
        schema_version=schema,
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        correlation_id="order-1",
        data=data,
    )


@pytest.mark.parametrize(("data", "declined"), [(V1_DECLINED, True), (V1_ABANDONED, False)])
def test_a_version_1_payment_failure_reads_as_the_current_class(
    data: dict[str, Any], declined: bool
) -> None:
    event = event_from_data("PaymentFailed", dict(data), 1)

    assert event == PaymentFailed(
        order_id="order-1", amount=Decimal("12.50"), reason=data["reason"], declined=declined
    )


def test_a_current_event_is_read_as_it_is() -> None:
    data = {**V1_ABANDONED, "declined": True}
    assert event_from_data("PaymentFailed", data, 2).declined is True  # type: ignore[attr-defined]


def test_a_version_newer_than_the_code_is_refused_not_guessed() -> None:
    with pytest.raises(ValueError, match="schema version 3 is not one this code reads"):
        event_from_data("PaymentFailed", {**V1_DECLINED, "declined": True}, 3)
    with pytest.raises(ValueError, match="schema version 0"):
        event_from_data("OrderConfirmed", {"order_id": "order-1"}, 0)


def test_every_event_class_has_an_upcaster_for_each_older_shape() -> None:
    assert missing_upcasters(EVENT_TYPES.values()) == []


def test_a_class_missing_an_upcaster_is_named() -> None:
    class Moved(DomainEvent):
        schema_version: ClassVar[int] = 3
        where: str

        @staticmethod
        def upcast_v2_v3(data: dict[str, Any]) -> dict[str, Any]:
            return {"where": data.pop("place")}

    assert missing_upcasters([Moved]) == ["Moved.upcast_v1_v2"]
    assert upcast(Moved, 2, {"place": "here"}) == {"where": "here"}


def test_an_old_event_in_the_in_memory_store_rebuilds_the_order_and_stays_as_written() -> None:
    store = InMemoryEventStore()
    created = {
        "order_id": "order-1",
        "customer_id": "cust-1",
        "items": [{"product_id": "sku-1", "quantity": 1, "unit_price": "12.50"}],
        "shipping_address": {
            "street": "1 Main St",
            "city": "Seattle",
            "state": "WA",
            "postal_code": "98101",
            "country": "US",
        },
        "payment_method": "tok_visa",
        "total": "12.50",
    }
    processing = {"order_id": "order-1", "amount": "12.50", "idempotency_key": "order-1:charge"}
    store._write(  # as the code of version 1 wrote them
        [
            stored(1, "OrderCreated", created, 1),
            stored(2, "PaymentProcessing", processing, 1),
            stored(3, "PaymentFailed", dict(V1_ABANDONED), 1),
        ]
    )

    records = store.load("order#order-1")
    order = Order.rebuild(record.to_domain() for record in records)

    assert order.payment is not None
    assert order.payment.status is PaymentStatus.FAILED
    assert order.payment.declined is False
    assert (records[2].schema_version, records[2].data) == (1, V1_ABANDONED)
    published = event_detail(records[2])
    assert published["schema_version"] == 2
    assert published["data"] == {**V1_ABANDONED, "declined": False}


@pytest.mark.parametrize(
    ("written", "read"),
    [("operator ops-7", ("ops-7", "operator")), ("cust-1", ("cust-1", "customer"))],
)
def test_a_version_1_cancellation_request_reads_with_who_and_their_role(
    written: str, read: tuple[str, str]
) -> None:
    stored = {"order_id": "order-1", "requested_by": written, "reason": "late"}

    event = event_from_data("CancellationRequested", stored, 1)

    assert isinstance(event, CancellationRequested)
    assert (event.requested_by, event.requested_by_role, event.reason) == (*read, "late")
