"""Value objects, commands and events: what they accept, what they refuse, how they serialise."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from order_saga.domain.commands import CancelOrder, CreateOrder, ItemRequest, ProcessPayment
from order_saga.domain.events import (
    EVENT_TYPES,
    CancellationRequested,
    CompensationFailed,
    CompensationStarted,
    DomainEvent,
    InventoryReleased,
    InventoryReservationFailed,
    InventoryReserved,
    OrderCancelled,
    OrderConfirmed,
    OrderCreated,
    OrderShipped,
    PaymentCompleted,
    PaymentFailed,
    PaymentProcessing,
    PaymentRefunded,
    StockAdded,
    StockCounterOpened,
    StockReleased,
    StockReserved,
    event_from_data,
)
from order_saga.domain.values import Address, OrderItem, Shortage, StockLine

ADDRESS = dict(street="1 Main St", city="Seattle", state="WA", postal_code="98101", country="US")


def item(**changes: Any) -> OrderItem:
    return OrderItem(**{"product_id": "sku-a", "quantity": 1, "unit_price": "12.50", **changes})


# -- Money --------------------------------------------------------------------------------


@pytest.mark.parametrize("price", [12.5, 0.1, 0.0])
def test_money_refuses_a_float(price: float) -> None:
    with pytest.raises(ValidationError) as refused:
        item(unit_price=price)

    [error] = refused.value.errors()
    assert error["loc"] == ("unit_price",)
    assert "not a float" in error["msg"]


@pytest.mark.parametrize("price", ["-0.01", "-12.50", Decimal("-1")])
def test_money_refuses_a_negative_amount(price: object) -> None:
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        item(unit_price=price)


@pytest.mark.parametrize("price", ["0.001", "12.505", Decimal("1.999")])
def test_money_refuses_more_than_two_decimals(price: object) -> None:
    with pytest.raises(ValidationError, match="decimal places"):
        item(unit_price=price)


@pytest.mark.parametrize("price", ["NaN", "Infinity", "abc", ""])
def test_money_refuses_what_is_not_a_finite_number(price: str) -> None:
    with pytest.raises(ValidationError):
        item(unit_price=price)


@pytest.mark.parametrize(
    ("price", "expected"), [("12.50", "12.50"), ("0", "0"), (Decimal("19.99"), "19.99"), (7, "7")]
)
def test_money_accepts_a_decimal_string_an_int_or_a_decimal(price: object, expected: str) -> None:
    assert item(unit_price=price).unit_price == Decimal(expected)


def test_money_is_serialised_to_json_as_a_string() -> None:
    priced = item(unit_price="12.50")

    assert priced.model_dump(mode="json")["unit_price"] == "12.50"
    assert json.loads(priced.model_dump_json())["unit_price"] == "12.50"


def test_a_subtotal_is_exact_to_the_cent() -> None:
    assert item(quantity=3, unit_price="19.99").subtotal == Decimal("59.97")


# -- ids, quantities, addresses -------------------------------------------------------------


@pytest.mark.parametrize(
    "product_id", ["", "a b", "sku/1", "sku.1", "sku#1", "café", "sku\n", "a" * 65]
)
def test_an_id_outside_the_safe_alphabet_or_length_is_refused(product_id: str) -> None:
    with pytest.raises(ValidationError, match="product_id"):
        item(product_id=product_id)


@pytest.mark.parametrize("product_id", ["a", "SKU-1_b", "a" * 64])
def test_an_id_of_letters_digits_dashes_and_underscores_is_accepted(product_id: str) -> None:
    assert item(product_id=product_id).product_id == product_id


@pytest.mark.parametrize("quantity", [0, -1, 1001, "2", 2.0, True])
def test_a_quantity_outside_1_to_1000_or_not_an_int_is_refused(quantity: object) -> None:
    with pytest.raises(ValidationError, match="quantity"):
        item(quantity=quantity)


@pytest.mark.parametrize("quantity", [1, 1000])
def test_quantities_1_and_1000_are_accepted(quantity: int) -> None:
    assert item(quantity=quantity).quantity == quantity


@pytest.mark.parametrize("country", ["us", "Us", "USA", "U", "U1", "", " US"])
def test_a_country_must_be_two_upper_case_letters(country: str) -> None:
    with pytest.raises(ValidationError, match="country"):
        Address(**{**ADDRESS, "country": country})


def test_an_address_with_a_two_letter_country_is_accepted() -> None:
    assert Address(**{**ADDRESS, "country": "DE"}).country == "DE"


def test_values_are_immutable() -> None:
    with pytest.raises(ValidationError):
        item().quantity = 5  # type: ignore[misc]


# -- unknown fields -------------------------------------------------------------------------


STRICT_MODELS: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (OrderItem, {"product_id": "sku-a", "quantity": 1, "unit_price": "1.00"}),
    (Address, ADDRESS),
    (StockLine, {"product_id": "sku-a", "quantity": 1}),
    (ItemRequest, {"product_id": "sku-a", "quantity": 1}),
    (ProcessPayment, {"order_id": "order-1"}),
    (CancelOrder, {"order_id": "order-1", "reason": "OutOfStock"}),
    (
        CreateOrder,
        {
            "order_id": "order-1",
            "customer_id": "cust-1",
            "items": [{"product_id": "sku-a", "quantity": 1}],
            "shipping_address": ADDRESS,
            "payment_method": "tok_visa",
        },
    ),
    (OrderConfirmed, {"order_id": "order-1"}),
]


@pytest.mark.parametrize(
    ("model", "data"), STRICT_MODELS, ids=[model.__name__ for model, _ in STRICT_MODELS]
)
def test_an_unknown_field_is_refused(model: type[BaseModel], data: dict[str, Any]) -> None:
    model.model_validate(data)  # the data alone is valid

    with pytest.raises(ValidationError, match="surprise"):
        model.model_validate({**data, "surprise": 1})


# -- events ---------------------------------------------------------------------------------

LINES = (StockLine(product_id="sku-a", quantity=2),)
SAMPLE_EVENTS: list[DomainEvent] = [
    OrderCreated(
        order_id="order-1",
        customer_id="cust-1",
        items=(item(quantity=3, unit_price="19.99"), item(product_id="sku-b", unit_price="0.05")),
        shipping_address=Address(**ADDRESS),
        payment_method="tok_visa",
        total=Decimal("60.02"),
    ),
    PaymentProcessing(order_id="order-1", amount=Decimal("60.02"), idempotency_key="k"),
    PaymentCompleted(order_id="order-1", payment_id="pay_1", amount=Decimal("60.02")),
    PaymentFailed(
        order_id="order-1", amount=Decimal("60.02"), reason="card declined", declined=True
    ),
    PaymentRefunded(
        order_id="order-1", payment_id="pay_1", refund_id="re_1", amount=Decimal("60.02")
    ),
    InventoryReserved(order_id="order-1", reservation_id="res_1", lines=LINES),
    InventoryReservationFailed(
        order_id="order-1",
        shortages=(Shortage(product_id="sku-a", requested=2, available=1),),
    ),
    InventoryReleased(order_id="order-1", reservation_id="res_1", lines=LINES),
    OrderConfirmed(order_id="order-1"),
    OrderCancelled(order_id="order-1", reason="OutOfStock", detail="sku-a short"),
    OrderShipped(order_id="order-1"),
    CompensationStarted(order_id="order-1"),
    CompensationFailed(
        order_id="order-1", failed_step="RefundPayment", error="GatewayUnavailable", cause="down"
    ),
    CancellationRequested(order_id="order-1", requested_by="cust-1", reason="changed my mind"),
    StockAdded(product_id="sku-a", quantity=10),
    StockReserved(product_id="sku-a", order_id="order-1", quantity=2),
    StockReleased(product_id="sku-a", order_id="order-1", quantity=2),
    StockCounterOpened(product_id="sku-a", available=10, held=0),
]


def test_the_samples_cover_every_event_type() -> None:
    assert sorted(type(e).type_name() for e in SAMPLE_EVENTS) == sorted(EVENT_TYPES)


@pytest.mark.parametrize("event", SAMPLE_EVENTS, ids=lambda e: type(e).type_name())
def test_an_event_round_trips_through_json(event: DomainEvent) -> None:
    stored = json.loads(json.dumps(event.model_dump(mode="json")))

    restored = event_from_data(event.type_name(), stored, event.schema_version)

    assert restored == event
    assert type(restored) is type(event)


def test_an_event_stores_money_as_a_string() -> None:
    data = SAMPLE_EVENTS[0].model_dump(mode="json")

    assert data["total"] == "60.02"
    assert data["items"][0]["unit_price"] == "19.99"


def test_an_unknown_event_type_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="OrderTeleported"):
        event_from_data("OrderTeleported", {"order_id": "order-1"}, 1)


def test_stored_event_data_with_an_unknown_field_is_refused() -> None:
    with pytest.raises(ValidationError):
        event_from_data("OrderConfirmed", {"order_id": "order-1", "surprise": 1}, 1)
