"""The order API's contract in code: request and response models (the OpenAPI document is
generated from them), the error body, and which named error answers with which status."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)

from order_saga.domain.commands import PaymentToken
from order_saga.domain.order import MAX_ITEMS, OrderStatus
from order_saga.domain.payment import PaymentStatus
from order_saga.domain.values import Address, Money, Quantity, SafeId
from order_saga.entrypoints.identity import Forbidden, Unauthenticated
from order_saga.errors import (
    DomainError,
    InvalidRequest,
    OrderAlreadyExists,
    OrderNotFound,
    PriceMismatch,
    ProductNotFound,
    SagaError,
    TransientError,
    UnknownProduct,
)

MAX_BODY_BYTES = 64 * 1024
"""Bodies above this are refused (413) before they are parsed."""
MONEY_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"


def _money_text(value: object) -> object:
    # JSON brings money only as a string: a JSON number may already have lost cents. (A
    # Decimal can only come from Python code building a response.)
    if isinstance(value, Decimal) or (
        isinstance(value, str) and re.fullmatch(MONEY_PATTERN, value)
    ):
        return value
    raise ValueError('money must be a string of digits with up to 2 decimals, such as "12.50"')


MoneyText = Annotated[
    Money,
    BeforeValidator(_money_text),
    WithJsonSchema({"type": "string", "pattern": MONEY_PATTERN, "examples": ["24.90"]}),
]
"""Money in the API: a decimal string such as "24.90", a Decimal inside."""

IdempotencyKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,128}$")]
Reason = Annotated[str, StringConstraints(max_length=500)]

# Fields are described with Field(description=...), which the OpenAPI document shows, not
# with attribute docstrings: pydantic's use_attribute_docstrings reads and parses this file's
# source as each model class is made: about 30 ms of the Api function's import on Python 3.11.

# -- requests ---------------------------------------------------------------------------


class Request(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class OrderItemRequest(Request):
    product_id: SafeId
    quantity: Quantity
    unit_price: MoneyText | None = Field(
        None,
        description="The price the client was shown; refused (409) when the catalog's differs.",
    )


ORDER_EXAMPLE: dict[str, Any] = {
    "items": [
        {"product_id": "sku-espresso-beans", "quantity": 2, "unit_price": "24.90"},
        {"product_id": "sku-pour-over-kettle", "quantity": 1},
    ],
    "shipping_address": {
        "street": "1 Main St",
        "city": "Seattle",
        "state": "WA",
        "postal_code": "98101",
        "country": "US",
    },
    "payment_method": "tok_visa",
}


class CreateOrderRequest(Request):
    """POST /orders. The customer comes from the caller's identity, never the body."""

    model_config = ConfigDict(json_schema_extra={"examples": [ORDER_EXAMPLE]})

    order_id: SafeId | None = Field(
        None, description="Optional: the client's own id for the order; one is made up when absent."
    )
    items: Annotated[tuple[OrderItemRequest, ...], Field(min_length=1, max_length=MAX_ITEMS)]
    shipping_address: Address
    payment_method: PaymentToken = Field(
        description="A card token of the payment gateway: tok_visa, tok_chargeDeclined, ..."
    )

    @field_validator("items")
    @classmethod
    def _each_product_once(
        cls, items: tuple[OrderItemRequest, ...]
    ) -> tuple[OrderItemRequest, ...]:
        products = [item.product_id for item in items]
        if len(set(products)) != len(products):
            raise ValueError("each product may appear only once; add up its quantities")
        return items


class CancelOrderRequest(Request):
    """POST /orders/{order_id}/cancel; the body is optional."""

    reason: Reason = ""


# -- responses --------------------------------------------------------------------------


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


# -- errors to statuses ---------------------------------------------------------------------


class PayloadTooLarge(SagaError):
    """The body is over MAX_BODY_BYTES; it was not read."""


class MalformedJson(SagaError):
    """The body is not JSON."""


class UnsupportedMediaType(SagaError):
    """The body is declared as something other than JSON."""


class IdempotencyKeyReused(SagaError):
    """The Idempotency-Key was used before with another body."""


class IdempotencyKeyInProgress(SagaError):
    """A request with the same Idempotency-Key is still running."""


STATUS_BY_ERROR: tuple[tuple[type[Exception], int], ...] = (
    (MalformedJson, 400),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (OrderNotFound, 404),
    (ProductNotFound, 404),
    (OrderAlreadyExists, 409),
    (PriceMismatch, 409),
    (IdempotencyKeyInProgress, 409),
    (PayloadTooLarge, 413),
    (UnsupportedMediaType, 415),
    (UnknownProduct, 422),
    (IdempotencyKeyReused, 422),
    (InvalidRequest, 422),
    (DomainError, 409),
    (TransientError, 503),
)


def status_for(error: Exception) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 500


def problems_for(error: SagaError, request: CreateOrderRequest | None) -> list[Problem]:
    """The fields a refusal is about: a reused Idempotency-Key, or the items a catalog
    refusal names, by their place in the request."""
    if isinstance(error, IdempotencyKeyReused):
        return [Problem(field="header.idempotency-key", reason="used before with another body")]
    if request is None:
        return []
    if isinstance(error, UnknownProduct):
        unknown = set(error.product_ids)
        return [
            Problem(field=f"items.{index}.product_id", reason="not in the catalog")
            for index, item in enumerate(request.items)
            if item.product_id in unknown
        ]
    if isinstance(error, PriceMismatch):
        reasons = dict(error.mismatches)
        return [
            Problem(field=f"items.{index}.unit_price", reason=reasons[item.product_id])
            for index, item in enumerate(request.items)
            if item.product_id in reasons
        ]
    return []


def field_name(location: tuple[Any, ...]) -> str:
    """pydantic's ("body", "items", 0, "quantity") as "items.0.quantity"; a path or query
    parameter by its name; a header as "header.<name>"."""
    parts = [str(part) for part in location]
    if parts and parts[0] in ("body", "path", "query"):
        parts = parts[1:]
    return ".".join(parts) or "body"
