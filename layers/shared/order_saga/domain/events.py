"""Domain events: immutable, past-tense facts. The aggregates are rebuilt from them.

Events of an order (its Order status and its Payment) live in the order's stream;
stock movements live in one stream per product. ``schema_version`` is stored with
every event so that an old event can still be read after its class changes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from order_saga.domain.values import Address, Money, OrderItem, SafeId, Shortage, StockLine


class DomainEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
    schema_version: ClassVar[int] = 1

    @classmethod
    def type_name(cls) -> str:
        return cls.__name__


# -- the order's stream ---------------------------------------------------------


class OrderCreated(DomainEvent):
    order_id: SafeId
    customer_id: SafeId
    items: tuple[OrderItem, ...]
    shipping_address: Address
    payment_method: str
    total: Money


class PaymentProcessing(DomainEvent):
    order_id: SafeId
    amount: Money
    idempotency_key: str


class PaymentCompleted(DomainEvent):
    order_id: SafeId
    payment_id: str
    amount: Money


class PaymentFailed(DomainEvent):
    order_id: SafeId
    amount: Money
    reason: str


class PaymentRefunded(DomainEvent):
    order_id: SafeId
    payment_id: str
    refund_id: str
    amount: Money


class InventoryReserved(DomainEvent):
    order_id: SafeId
    reservation_id: str
    lines: tuple[StockLine, ...]


class InventoryReservationFailed(DomainEvent):
    order_id: SafeId
    shortages: tuple[Shortage, ...]


class InventoryReleased(DomainEvent):
    order_id: SafeId
    reservation_id: str
    lines: tuple[StockLine, ...]


class OrderConfirmed(DomainEvent):
    order_id: SafeId


class OrderCancelled(DomainEvent):
    order_id: SafeId
    reason: str
    detail: str = ""


class OrderShipped(DomainEvent):
    order_id: SafeId


class CompensationStarted(DomainEvent):
    """The saga began to undo the order: from now on no forward step may move it on."""

    order_id: SafeId


class CompensationFailed(DomainEvent):
    """A compensation still failed after its retries: the order awaits manual review."""

    order_id: SafeId
    failed_step: str
    error: str
    cause: str = ""


class CancellationRequested(DomainEvent):
    """The customer (or an operator) asked to cancel; the saga stops and compensates."""

    order_id: SafeId
    requested_by: str
    reason: str = ""


# -- a product's stock stream ---------------------------------------------------


class StockAdded(DomainEvent):
    product_id: SafeId
    quantity: int


class StockReserved(DomainEvent):
    product_id: SafeId
    order_id: SafeId
    quantity: int


class StockReleased(DomainEvent):
    product_id: SafeId
    order_id: SafeId
    quantity: int


EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.type_name(): cls
    for cls in (
        OrderCreated,
        PaymentProcessing,
        PaymentCompleted,
        PaymentFailed,
        PaymentRefunded,
        InventoryReserved,
        InventoryReservationFailed,
        InventoryReleased,
        OrderConfirmed,
        OrderCancelled,
        OrderShipped,
        CompensationStarted,
        CompensationFailed,
        CancellationRequested,
        StockAdded,
        StockReserved,
        StockReleased,
    )
}


def event_from_data(event_type: str, data: dict[str, Any]) -> DomainEvent:
    """Rebuild a stored event; an unknown type is a corrupt or newer store, never ignored."""
    try:
        cls = EVENT_TYPES[event_type]
    except KeyError:
        raise ValueError(f"unknown event type {event_type!r}") from None
    return cls.model_validate(data)
