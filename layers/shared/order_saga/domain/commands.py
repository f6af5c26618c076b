"""Commands: what a caller asks of the domain. They are also the handlers' input schemas."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from order_saga.domain.events import Requester
from order_saga.domain.order_status import MAX_ITEMS
from order_saga.domain.values import Address, Money, Quantity, SafeId

PaymentToken = Annotated[str, StringConstraints(pattern=r"^tok_[A-Za-z0-9_]{1,60}$")]
"""A card token of the payment gateway, in the style of Stripe's test tokens."""


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


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


class ForwardCommand(OrderCommand):
    """A step on the way to confirmation: it refuses to run past the saga's deadline."""

    saga_started_at: AwareDatetime | None = None
    """When the saga's execution started ($$.Execution.StartTime)."""


class ProcessPayment(ForwardCommand):
    pass


class ReserveInventory(ForwardCommand):
    pass


class ConfirmOrder(ForwardCommand):
    pass


class RefundPayment(OrderCommand):
    pass


class ReleaseInventory(OrderCommand):
    pass


class ShipOrder(OrderCommand):
    pass


ErrorName = Annotated[str, StringConstraints(min_length=1, max_length=256)]
ErrorCause = Annotated[str, StringConstraints(max_length=32_768)]


def _from_caught_error(names: tuple[str, str]) -> Any:
    """Accept the state machine's caught-error object as well as flat fields: a Catch
    with ResultPath puts {"Error": ..., "Cause": ...} in the state's input, and Cause
    may be missing, so the ASL passes the whole object rather than its parts."""

    def split(data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            caught = data["error"]
            data = {k: v for k, v in data.items() if k != "error"}
            data[names[0]] = caught.get("Error")
            data[names[1]] = caught.get("Cause")
        return data

    return model_validator(mode="before")(split)


class RequestCancellation(OrderCommand):
    """A customer's (or an operator's) request to cancel, sent through the API."""

    requested_by: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    """The id of whoever asked: the customer's, or the operator's."""
    requested_by_role: Requester = "customer"
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class CancelOrder(OrderCommand):
    reason: ErrorName
    """Why: the saga passes the name of the error it caught (PaymentDeclined, OutOfStock...)."""
    cause: ErrorCause | None = None
    """The caught error's cause as Step Functions reports it (a JSON document from Lambda)."""

    _caught = _from_caught_error(("reason", "cause"))


class RecordCompensationFailure(OrderCommand):
    failed_step: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    error: ErrorName
    cause: ErrorCause | None = None

    _caught = _from_caught_error(("error", "cause"))
