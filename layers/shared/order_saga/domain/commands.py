"""Commands: what a caller asks of the domain. They are also the handlers' input schemas."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from order_saga.domain.order import MAX_ITEMS
from order_saga.domain.values import Address, Money, Quantity, SafeId

PaymentToken = Annotated[str, StringConstraints(pattern=r"^tok_[A-Za-z0-9_]{1,60}$")]
"""A card token of the payment gateway, in the style of Stripe's test tokens."""


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ItemRequest(Command):
    product_id: SafeId
    quantity: Quantity
    unit_price: Money | None = None
    """The price the client saw, echoed for checking; the catalog's price is charged."""


class CreateOrder(Command):
    order_id: SafeId
    customer_id: SafeId
    items: Annotated[tuple[ItemRequest, ...], Field(min_length=1, max_length=MAX_ITEMS)]
    shipping_address: Address
    payment_method: PaymentToken


class OrderCommand(Command):
    """A saga step's input: the order id is all a step needs; it loads the rest."""

    order_id: SafeId


class ProcessPayment(OrderCommand):
    pass


class ReserveInventory(OrderCommand):
    pass


class ConfirmOrder(OrderCommand):
    pass


class RefundPayment(OrderCommand):
    pass


class ReleaseInventory(OrderCommand):
    pass


class ShipOrder(OrderCommand):
    pass


class RequestCancellation(OrderCommand):
    """A customer's (or an operator's) request to cancel, sent through the API."""

    requested_by: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class CancelOrder(OrderCommand):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    """Why: the saga passes the name of the error it caught (PaymentDeclined, OutOfStock...)."""
    cause: Annotated[str, StringConstraints(max_length=32_768)] | None = None
    """The caught error's cause as Step Functions reports it (a JSON document from Lambda)."""
