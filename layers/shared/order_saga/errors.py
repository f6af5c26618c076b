"""The named errors of the saga, every one the state machine or the API routes on.

The class names are a contract: the state machine's Retry and Catch match on them
(``ErrorEquals``), because Lambda reports an unhandled exception by its class name, and
the API answers with them as ErrorBody's ``error``. Rename one and the ASL (or the API's
clients) must change with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from order_saga.domain.values import Shortage


class SagaError(Exception):
    """Base of every error this package raises on purpose."""


# -- business errors: caught and compensated by the state machine, never retried --


class DomainError(SagaError):
    """A rule of the domain refused a command; nothing was recorded."""


class InvalidTransition(DomainError):
    """The order's status does not allow this command."""


class PaymentDeclined(DomainError):
    """The payment gateway refused the charge."""


class OrderCancellationRequested(DomainError):
    """Someone asked to cancel the order: the saga takes no further step forward, and the
    state machine's catch-all runs the compensation (refund, release, cancel)."""


class InvalidPaymentOperation(DomainError):
    """A payment command that breaks its rules (refund twice, refund more than charged)."""


class OutOfStock(DomainError):
    """At least one product of the order lacks the stock to reserve all of it."""

    def __init__(self, message: str, shortages: tuple[Shortage, ...] = ()) -> None:
        super().__init__(message)
        self.shortages = shortages


class InvalidStockOperation(DomainError):
    """A stock command that breaks the inventory's rules (negative stock, bad quantity)."""


class UnknownProduct(DomainError):
    """A product id that the catalog does not hold."""

    def __init__(self, message: str, product_ids: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.product_ids = product_ids


class PriceMismatch(DomainError):
    """The client echoed a unit price that differs from the catalog's."""

    def __init__(self, message: str, mismatches: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.mismatches = mismatches
        """(product id, both prices in words) for each item that differs."""


class OrderConfirmedAfterAll(DomainError):
    """Cancel found the order confirmed: a forward step failed after its write landed,
    so there is nothing to compensate and the saga ends in success."""


class SagaTimedOut(DomainError):
    """The order was not confirmed within the saga's time limit; it is compensated."""


class OrderNotFound(SagaError):
    """No order has that id."""


class ProductNotFound(SagaError):
    """No product in the catalog has that id."""


class OrderAlreadyExists(SagaError):
    """An order with that id was already created."""


class InvalidRequest(SagaError):
    """An input failed validation before anything ran; nothing was written."""


class InvalidCursor(InvalidRequest):
    """A list's cursor is not one the API gave out, or it continues another list."""


# -- transient errors: the state machine retries these with backoff and jitter --


class TransientError(SagaError):
    """Worth trying again: the same input may succeed later."""


class GatewayUnavailable(TransientError):
    """The payment gateway could not be reached or answered with a server error."""


class ConcurrencyError(TransientError):
    """Another writer appended to one of the streams first; reload and try again."""


class StockContended(TransientError):
    """A product's stock counter was being changed by another transaction each time this
    one tried (DynamoDB's TransactionConflict): nothing was written; try again later. It
    delays an order, never cancels it (the state machine retries it patiently)."""


class StorageError(TransientError):
    """The event store failed for a reason other than a version conflict (throttling, ...)."""


# -- configuration: a function refuses to start without what it needs -------------


class InsufficientStock(SagaError):
    """A stock counter's condition failed in an append (nothing was written): by product,
    the units available, or None for a product with no counter yet. The inventory use
    cases turn it into OutOfStock, or open the counter and decide again; the state machine
    never sees it."""

    def __init__(self, available: dict[str, int | None]) -> None:
        super().__init__(
            "stock counters refused: "
            + ", ".join(f"{p}: {'no counter' if a is None else a}" for p, a in available.items())
        )
        self.available = available


class MissingConfiguration(SagaError):
    """A function's environment lacks a variable its dependencies need; raised at init."""

    def __init__(self, function: str, variables: tuple[str, ...]) -> None:
        super().__init__(f"{function} cannot start: set {', '.join(variables)}")
        self.variables = variables


# -- the API's refusals (entrypoints/statuses.py maps each to its HTTP status) ----


class Unauthenticated(SagaError):
    """The request carries no caller identity the API accepts."""


class Forbidden(SagaError):
    """The caller is known but may not do this."""


class PayloadTooLarge(SagaError):
    """The body is over the API's limit (entrypoints/gate.py); it was not read."""


class MalformedJson(SagaError):
    """The body is not JSON."""


class UnsupportedMediaType(SagaError):
    """The body is declared as something other than JSON."""


class IdempotencyKeyReused(SagaError):
    """The Idempotency-Key was used before with another body."""


class IdempotencyKeyInProgress(SagaError):
    """A request with the same Idempotency-Key is still running."""


# -- stream consumers (notifications, published events) ---------------------------


class PoisonRecord(SagaError):
    """A stream record that can never be processed (not an event this store wrote, an
    unknown type, data its event class refuses): it goes to the consumer's failure queue
    with its content instead of blocking the records after it."""


class NotificationFailed(TransientError):
    """The notification service refused or could not take a message."""


class PublishFailed(TransientError):
    """The event bus did not accept an event (throttled, internal failure)."""


class EarlierEventFailed(TransientError):
    """An earlier event of the same stream failed in this batch; this one waits for its
    retry, so a customer never hears of a later event before an earlier one."""


class SagaStartThrottled(TransientError):
    """Step Functions refused StartExecution for its start rate (ThrottlingException, after
    the SDK's own retries); the stream relay's record is retried, the reconciler catches
    the rest."""
