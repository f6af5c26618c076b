"""Value objects shared by the aggregates."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

CENT = Decimal("0.01")
MAX_QUANTITY = 1000


def _reject_float(value: object) -> object:
    # A float has already lost the cents (0.1 + 0.2); money must arrive as a string.
    if isinstance(value, float):
        raise ValueError("money must be a decimal string such as '12.50', not a float")
    return value


def _to_cents(value: Decimal) -> Decimal:
    # One spelling per amount: "12.5", "12.500" and "1.25E+1" all become "12.50"; "-0" is 0.
    return (value + 0).quantize(CENT)


Money = Annotated[
    Decimal,
    BeforeValidator(_reject_float),
    Field(ge=0, max_digits=12, decimal_places=2, allow_inf_nan=False),
    AfterValidator(_to_cents),
]
"""A non-negative amount with at most two decimal places, kept in cents and serialised
to JSON as a string such as "12.50"."""

SafeId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
"""Ids come from a fixed safe alphabet, so they can be DynamoDB keys and execution names."""

Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY, strict=True)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class OrderItem(Value):
    product_id: SafeId
    quantity: Quantity
    unit_price: Money

    @property
    def subtotal(self) -> Decimal:
        return (self.unit_price * self.quantity).quantize(CENT)


class Address(Value):
    street: ShortText
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    state: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    postal_code: Annotated[
        str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9 -]{2,12}$")
    ]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    """ISO 3166-1 alpha-2 code, such as "US"."""


class StockLine(Value):
    """How many units of one product an order holds."""

    product_id: SafeId
    quantity: Quantity


class Shortage(Value):
    product_id: SafeId
    requested: int
    available: int


def order_total(items: tuple[OrderItem, ...]) -> Decimal:
    return sum((item.subtotal for item in items), Decimal("0.00")).quantize(CENT)
