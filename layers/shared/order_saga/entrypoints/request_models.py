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

from order_saga.domain.commands import PaymentToken
from order_saga.domain.order_status import MAX_ITEMS
from order_saga.domain.values import Address, Money, Quantity, SafeId

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
