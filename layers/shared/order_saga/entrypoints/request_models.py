"""The order API's requests: the models Powertools validates each body against (the
OpenAPI document is generated from them), and the field types they share with the
responses (money as a decimal string)."""

from __future__ import annotations

import re
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
from pydantic.json_schema import SkipJsonSchema

from order_saga.domain.commands import PaymentToken
from order_saga.domain.order_status import MAX_ITEMS
from order_saga.domain.values import Money, Quantity, SafeId

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

# C0 and C1 controls (and DEL), and the bidirectional embeddings, overrides and isolates:
# a NUL, a CR/LF or a right-to-left override in a street or a reason would be stored,
# then printed on a label, a log line or an operator's screen as something else.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _printable(value: object) -> object:
    """Text a person typed: refused (422, naming the field) with a control character."""
    found = _CONTROLS.search(value) if isinstance(value, str) else None
    if found:
        raise ValueError(
            f"must not contain control or bidirectional control characters "
            f"(U+{ord(found.group()):04X} at {found.start()})"
        )
    return value


def _decimal_digits(value: object) -> object:
    # pydantic reads "5.0", "+5", "1_0" and " 5" as 5; a query string holds digits or not.
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{1,6}", value):
        raise ValueError("must be a whole number written in decimal digits")
    return value


QueryInt = Annotated[int, BeforeValidator(_decimal_digits)]
"""An integer query parameter, read strictly: decimal digits only, else 422."""
"""Text a person typed: refused (422, naming the field) with a control character in it."""
Reason = Annotated[str, StringConstraints(max_length=500)]

# Fields are described with Field(description=...), which the OpenAPI document shows, not
# with attribute docstrings: pydantic's use_attribute_docstrings reads and parses this file's
# source as each model class is made: about 30 ms of the Api function's import on Python 3.11.


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


class AddressRequest(Request):
    """The shipping address as the client sends it: the domain's Address, whose free-text
    fields are also refused with control characters (stored events stay readable as they
    were written, so the check is here, at the edge)."""

    street: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    state: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    postal_code: Annotated[
        str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9 -]{2,12}$")
    ]
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(
        description='ISO 3166-1 alpha-2 code, such as "US".'
    )

    # Free text is checked as sent, before it is stripped: a trailing CR/LF is refused too.
    # (A field validator, not a BeforeValidator in the Annotated: mixed with
    # StringConstraints that makes pydantic check min_length before stripping.)
    @field_validator("street", "city", "state", mode="before")
    @classmethod
    def _no_controls(cls, value: object) -> object:
        return _printable(value)


class CreateOrderRequest(Request):
    """POST /orders. The customer comes from the caller's identity, never the body."""

    model_config = ConfigDict(json_schema_extra={"examples": [ORDER_EXAMPLE]})

    order_id: SkipJsonSchema[Any] = Field(None, exclude=True)
    """Refused when sent (below); not part of the contract."""
    items: Annotated[tuple[OrderItemRequest, ...], Field(min_length=1, max_length=MAX_ITEMS)]
    shipping_address: AddressRequest
    payment_method: PaymentToken = Field(
        description="A card token of the payment gateway: tok_visa, tok_chargeDeclined, ..."
    )

    @field_validator("order_id", mode="before")
    @classmethod
    def _no_client_order_id(cls, value: Any) -> Any:
        # The id is the server's (derived from the customer and the Idempotency-Key): a
        # client-chosen one could collide with another customer's and tell that it exists.
        raise ValueError(
            "order_id is assigned by the server; send an Idempotency-Key to retry safely"
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

    @field_validator("reason", mode="before")
    @classmethod
    def _no_controls(cls, value: object) -> object:
        return _printable(value)
