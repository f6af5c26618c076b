"""The order API's responses: every body a route answers with, ErrorBody included (the
OpenAPI document is generated from them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from order_saga.domain.order_status import OrderStatus
from order_saga.domain.payment import PaymentStatus
from order_saga.domain.values import Address, SafeId
from order_saga.entrypoints.request_models import MoneyText


class Body(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


class OrderAccepted(Body):
    order_id: SafeId
    status: OrderStatus
    total: MoneyText


class OrderItemView(Body):
    product_id: SafeId
    quantity: int
    unit_price: MoneyText


class CancellationView(Body):
    requested_by: str
    reason: str
    requested_at: datetime


class OrderView(Body):
    """An order as its events tell it."""

    order_id: SafeId
    customer_id: SafeId
    status: OrderStatus
    items: list[OrderItemView]
    shipping_address: Address
    total: MoneyText
    payment_id: str | None
    payment_status: PaymentStatus | None
    refund_id: str | None
    reservation_id: str | None
    cancellation_requested: CancellationView | None
    cancellation_reason: str | None = Field(
        description="The error the saga stopped on (PaymentDeclined, OutOfStock, ...) "
        "once CANCELLED."
    )
    cancellation_detail: str | None
    waiting_for_saga: bool = Field(
        description="True while no step of the saga has acted on the order yet: it is "
        "accepted and waits for its saga to start (started from the event store's stream, "
        "or by the reconciler)."
    )
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="How many events the order has: grows with every change.")


class EventView(Body):
    version: int
    type: str
    schema_version: int
    occurred_at: datetime
    correlation_id: str
    data: dict[str, Any]


class OrderEvents(Body):
    order_id: SafeId
    events: list[EventView] = Field(description="Oldest first: the order's whole history.")


class ProductView(Body):
    product_id: SafeId
    name: str
    unit_price: MoneyText
    available: int = Field(description="Units in stock that no order holds.")


class ProductPage(Body):
    products: list[ProductView]
    next_cursor: SafeId | None = Field(
        description="Pass as ?cursor= for the next page; null on the last one."
    )


class Problem(Body):
    field: str = Field(description='Where: "items.0.quantity", "header.idempotency-key", "body"...')
    reason: str


class ErrorBody(Body):
    """Every error the API answers with (API Gateway's own refusals too)."""

    error: str = Field(
        description="A stable name: InvalidRequest, PriceMismatch, OrderNotFound, ..."
    )
    message: str
    details: list[Problem] = []
