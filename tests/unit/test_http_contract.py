"""The API's models and error mapping, without HTTP: money as text, bounds, the status each
named error answers with, and the field names an error body uses."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from order_saga.entrypoints.field_mapping import field_name, problems_for
from order_saga.entrypoints.request_models import ORDER_EXAMPLE, CreateOrderRequest
from order_saga.entrypoints.response_models import OrderAccepted
from order_saga.entrypoints.statuses import status_for
from order_saga.errors import (
    ConcurrencyError,
    Forbidden,
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    InvalidTransition,
    OrderAlreadyExists,
    OrderCancellationRequested,
    OrderNotFound,
    PayloadTooLarge,
    PriceMismatch,
    ProductNotFound,
    SagaError,
    StorageError,
    Unauthenticated,
    UnknownProduct,
    UnsupportedMediaType,
)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (Unauthenticated("x"), 401),
        (Forbidden("x"), 403),
        (OrderNotFound("x"), 404),
        (ProductNotFound("x"), 404),
        (OrderAlreadyExists("x"), 409),
        (PriceMismatch("x"), 409),
        (InvalidTransition("x"), 409),
        (OrderCancellationRequested("x"), 409),
        (IdempotencyKeyInProgress("x"), 409),
        (PayloadTooLarge("x"), 413),
        (UnsupportedMediaType("x"), 415),
        (UnknownProduct("x"), 422),
        (IdempotencyKeyReused("x"), 422),
        (ConcurrencyError("x"), 503),
        (StorageError("x"), 503),
        (SagaError("x"), 500),
        (RuntimeError("x"), 500),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_each_named_error_answers_with_its_status(error: Exception, status: int) -> None:
    assert status_for(error) == status


def request(**changes: Any) -> CreateOrderRequest:
    return CreateOrderRequest.model_validate({**ORDER_EXAMPLE, **changes})


def test_the_documented_example_is_a_valid_request() -> None:
    assert request().items[0].unit_price == Decimal("24.90")


@pytest.mark.parametrize("price", ["24.9", "24.90", "0", "9999999999.99"])
def test_money_is_accepted_as_a_decimal_string(price: str) -> None:
    line = {"product_id": "sku-a", "quantity": 1, "unit_price": price}

    assert request(items=[line]).items[0].unit_price == Decimal(price)


@pytest.mark.parametrize("price", [24.9, 24, "24.901", "-1", "1e3", " 24.90", "٢٤"])
def test_money_as_a_number_or_odd_text_is_refused(price: Any) -> None:
    line = {"product_id": "sku-a", "quantity": 1, "unit_price": price}

    with pytest.raises(ValidationError, match="unit_price"):
        request(items=[line])


def test_a_response_takes_money_as_a_decimal_and_writes_it_as_text() -> None:
    accepted = OrderAccepted(order_id="o-1", status="PENDING", total=Decimal("49.8"))

    assert accepted.model_dump(mode="json")["total"] == "49.80"


@pytest.mark.parametrize(
    ("location", "name"),
    [
        (("body", "items", 0, "quantity"), "items.0.quantity"),
        (("body",), "body"),
        (("path", "order_id"), "order_id"),
        (("query", "limit"), "limit"),
        (("header", "idempotency-key"), "header.idempotency-key"),
    ],
)
def test_a_field_is_named_by_its_place_in_the_request(location: tuple[Any, ...], name: str) -> None:
    assert field_name(location) == name


def test_catalog_refusals_name_the_items_they_are_about() -> None:
    body = request(
        items=[
            {"product_id": "sku-a", "quantity": 1},
            {"product_id": "sku-b", "quantity": 1, "unit_price": "1.00"},
        ]
    )

    unknown = problems_for(UnknownProduct("x", ("sku-a",)), body)
    mismatch = problems_for(PriceMismatch("x", (("sku-b", "sent 1.00, catalog 2.00"),)), body)

    assert [(p.field, p.reason) for p in unknown] == [("items.0.product_id", "not in the catalog")]
    assert [(p.field, p.reason) for p in mismatch] == [
        ("items.1.unit_price", "sent 1.00, catalog 2.00")
    ]
    assert problems_for(UnknownProduct("x", ("sku-a",)), None) == []


def test_a_reused_idempotency_key_names_the_header_whatever_the_body() -> None:
    for body in (request(), None):
        problems = problems_for(IdempotencyKeyReused("x"), body)

        assert [(p.field, p.reason) for p in problems] == [
            ("header.idempotency-key", "used before with another body")
        ]
