"""Domain events: immutable, past-tense facts. The aggregates are rebuilt from them.

Events of an order (its Order status and its Payment) live in the order's stream;
stock movements live in one stream per product. ``schema_version`` is stored with
every event, and an event is read through it: a class whose shape changed carries the
upcasters from each older shape (domain/upcasting.py), so old events stay as written.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from order_saga.domain.upcasting import missing_upcasters, upcast
from order_saga.domain.values import Address, Money, OrderItem, SafeId, Shortage, StockLine

ABANDONED = "abandoned:"
"""How version 1 of PaymentFailed began the reason of a charge that never went through."""


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
    """The charge failed: the gateway declined it (``declined``), or it was abandoned
    because it never went through (its answer was lost and no charge was found)."""

    # Version 2 added ``declined``; version 1 left it to the wording of ``reason``.
    schema_version: ClassVar[int] = 2
    order_id: SafeId
    amount: Money
    reason: str
    declined: bool

    @staticmethod
    def upcast_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
        # Version 1 wrote an abandoned charge's reason as "abandoned: ..." and a decline's
        # as the gateway's message (service_layer/payments.py).
        data["declined"] = not str(data.get("reason", "")).startswith(ABANDONED)
        return data


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


OPERATOR_PREFIX = "operator "
"""How version 1 named an operator in ``requested_by`` ("operator <id>")."""
Requester = Literal["customer", "operator"]


class CancellationRequested(DomainEvent):
    """The customer (or an operator) asked to cancel; the saga stops and compensates.
    Version 2 records who as ``requested_by`` (the customer's or the operator's id) and
    what they are as ``requested_by_role``: operators are shown who, customers only that
    the shop cancelled (service_layer/views.py)."""

    schema_version: ClassVar[int] = 2
    order_id: SafeId
    requested_by: str
    requested_by_role: Requester = "customer"
    reason: str = ""

    @staticmethod
    def upcast_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
        # Version 1 wrote the API caller's name: a customer's id, or "operator <id>".
        who = str(data.get("requested_by", ""))
        operator = who.startswith(OPERATOR_PREFIX)
        data["requested_by"] = who.removeprefix(OPERATOR_PREFIX) if operator else who
        data["requested_by_role"] = "operator" if operator else "customer"
        return data


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


class StockCounterOpened(DomainEvent):
    """From here on the product's units available are kept by its stock counter (the
    stock table), and reservations are recorded on the orders' streams only: this stream
    then holds restocks. ``available`` is what the counter opened with (what this stream
    said was available), ``held`` what orders held by this stream at that moment (they
    release through the counter)."""

    product_id: SafeId
    available: int
    held: int


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
        StockCounterOpened,
    )
}


_missing = missing_upcasters(EVENT_TYPES.values())
if _missing:
    raise TypeError(f"event classes lack upcasters: {', '.join(_missing)}")


def event_class(event_type: str) -> type[DomainEvent]:
    """An unknown type is a corrupt or newer store, never ignored."""
    try:
        return EVENT_TYPES[event_type]
    except KeyError:
        raise ValueError(f"unknown event type {event_type!r}") from None


def current_data(event_type: str, schema_version: int, data: dict[str, Any]) -> dict[str, Any]:
    """A stored event's data in its class's current shape (domain/upcasting.py)."""
    return upcast(event_class(event_type), schema_version, data)


def event_from_data(event_type: str, data: dict[str, Any], schema_version: int) -> DomainEvent:
    """Rebuild a stored event, read through the schema version it was stored with."""
    cls = event_class(event_type)
    return cls.model_validate(upcast(cls, schema_version, data))
