"""The order API's request models, caller identity and error-to-status mapping."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field

from order_saga.domain.commands import ItemRequest, PaymentToken
from order_saga.domain.order import MAX_ITEMS
from order_saga.domain.values import Address, SafeId
from order_saga.errors import (
    DomainError,
    InvalidRequest,
    OrderAlreadyExists,
    OrderNotFound,
    PriceMismatch,
    SagaError,
    UnknownProduct,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

CUSTOMER_HEADER = "X-Customer-Id"


class CreateOrderRequest(BaseModel):
    """POST /orders. The customer comes from the caller's identity, never the body."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    order_id: SafeId | None = None
    items: Annotated[tuple[ItemRequest, ...], Field(min_length=1, max_length=MAX_ITEMS)]
    shipping_address: Address
    payment_method: PaymentToken


class Unauthenticated(SagaError):
    """The request carries no caller identity."""


def customer_id(event: APIGatewayProxyEvent) -> str:
    """The authorizer's subject on AWS; the X-Customer-Id header stands in for it locally."""
    claims = (event.request_context.authorizer.claims or {}) if event.request_context else {}
    subject = (
        claims.get("sub")
        or event.headers.get(CUSTOMER_HEADER)
        or event.headers.get(CUSTOMER_HEADER.lower())
    )
    if not subject:
        raise Unauthenticated(f"no caller identity (send {CUSTOMER_HEADER} locally)")
    return subject


STATUS_BY_ERROR: tuple[tuple[type[Exception], int], ...] = (
    (Unauthenticated, 401),
    (OrderNotFound, 404),
    (OrderAlreadyExists, 409),
    (PriceMismatch, 409),
    (UnknownProduct, 422),
    (InvalidRequest, 422),
    (DomainError, 409),
)


def status_for(error: Exception) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 500
