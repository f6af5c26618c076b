"""Order use cases: create (priced from the catalog), confirm, cancel, ship."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from order_saga import strict_json
from order_saga.domain.order import Order, requested_detail
from order_saga.domain.order_status import FINISHED, OrderStatus
from order_saga.domain.values import OrderItem
from order_saga.errors import (
    ConcurrencyError,
    IdempotencyKeyReused,
    OrderAlreadyExists,
    OrderCancellationRequested,
    OrderConfirmedAfterAll,
    PriceMismatch,
    TransientError,
)
from order_saga.service_layer.conflicts import retry_on_conflict
from order_saga.service_layer.deadline import TIMEOUT_REASON, check_deadline
from order_saga.service_layer.results import StatusResult
from order_saga.service_layer.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from order_saga.domain.commands import (
        CancelOrder,
        ConfirmOrder,
        CreateOrder,
        RecordCompensationFailure,
        RequestCancellation,
        ShipOrder,
    )
    from order_saga.service_layer.dependencies import ApiDependencies, StepDependencies

MAX_DETAIL = 1000
REASONS = {"SagaTimedOut": TIMEOUT_REASON}
"""Cancellation reasons worded for people where the error name is not."""


@dataclass(frozen=True)
class Placed:
    order: Order
    created: bool
    """False for an order placed before under the same id (a retry)."""
    saga_started: bool
    """False when the fast start failed (throttled, unavailable): the order is recorded,
    and the saga starter on the event store's stream starts it (the reconciler behind it)."""


def create_order(command: CreateOrder, deps: ApiDependencies) -> Order:
    """Price every item from the catalog, record OrderCreated, start the saga."""
    return place_order(command, deps).order


def place_order(command: CreateOrder, deps: ApiDependencies) -> Placed:
    """Price every item from the catalog, record OrderCreated, try to start the saga.

    Placing the same order again under its id (a retry whose first answer was lost) is
    not an error: the customer's own order with the same items, address and payment
    method is answered as placed. The same id with another order is IdempotencyKeyReused.
    Once OrderCreated is written the order is accepted whatever the start does: the
    stream relays it to the saga starter."""
    products = deps.catalog.prices(item.product_id for item in command.items)
    mismatches = tuple(
        (
            item.product_id,
            f"sent {item.unit_price}, catalog price {products[item.product_id].unit_price}",
        )
        for item in command.items
        if item.unit_price is not None and item.unit_price != products[item.product_id].unit_price
    )
    if mismatches:
        raise PriceMismatch(
            "price mismatch: " + "; ".join(f"{pid}: {prices}" for pid, prices in mismatches),
            mismatches,
        )
    order = Order.create(
        order_id=command.order_id,
        customer_id=command.customer_id,
        items=tuple(
            OrderItem(
                product_id=item.product_id,
                quantity=item.quantity,
                unit_price=products[item.product_id].unit_price,
            )
            for item in command.items
        ),
        shipping_address=command.shipping_address,
        payment_method=command.payment_method,
    )
    try:
        with UnitOfWork(deps.store, order.order_id) as uow:
            uow.add_order(order)
            uow.commit()
        stored = True
    except ConcurrencyError:
        stored = False
    if not stored:
        order = _placed_before(order, deps)
    return Placed(order=order, created=stored, saga_started=start_saga(order.order_id, deps))


def start_saga(order_id: str, deps: ApiDependencies) -> bool:
    """The API's fast start, best effort: False when it failed for now (the stream's saga
    starter and the reconciler start the order anyway). No launcher wired: False."""
    if deps.saga is None:
        return False
    try:
        deps.saga.start(order_id)
    except TransientError:
        return False
    return True


def _placed_before(order: Order, deps: ApiDependencies) -> Order:
    with UnitOfWork(deps.store, order.order_id) as uow:
        stored = uow.order(order.order_id)
    if stored.customer_id != order.customer_id:
        # Never for an id the API derives (it includes the customer): only a caller of
        # this use case that chose the id itself can get here.
        raise OrderAlreadyExists(f"order {order.order_id} already exists")
    if _content(stored) != _content(order):
        raise IdempotencyKeyReused(
            f"order {order.order_id} was placed with other items, address or payment method"
        )
    return stored


def _content(order: Order) -> tuple[object, ...]:
    lines = tuple((item.product_id, item.quantity) for item in order.items)
    return (lines, order.shipping_address, order.payment_method)


def confirm_order(command: ConfirmOrder, deps: StepDependencies) -> StatusResult:
    with UnitOfWork(deps.store, command.order_id) as uow:
        order = uow.order(command.order_id)
        if order.status is OrderStatus.CONFIRMED:
            return StatusResult(order_id=order.order_id, status=order.status, changed=False)
        check_deadline(command, deps)
        order.confirm()
        uow.commit()
    return StatusResult(
        order_id=order.order_id, status=order.status, duration_ms=_duration_ms(order, deps)
    )


def cancel_order(command: CancelOrder, deps: StepDependencies) -> StatusResult:
    """The last compensation: refuses while the order still holds money or stock. An
    order confirmed after all (its step failed after writing) is left confirmed and
    reported as OrderConfirmedAfterAll, on which the state machine ends in success."""
    with UnitOfWork(deps.store, command.order_id) as uow:
        order = uow.order(command.order_id)
        if order.status in FINISHED:
            raise OrderConfirmedAfterAll(f"order {order.order_id} is {order.status}: kept")
        if order.status is OrderStatus.CANCELLED:
            return StatusResult(
                order_id=order.order_id,
                status=order.status,
                reason=order.cancel_reason,
                changed=False,
            )
        if command.reason == OrderCancellationRequested.__name__ and order.cancellation:
            # Who asked is in CancellationRequested; this detail is read by everyone.
            detail = requested_detail(order.cancellation)
        else:
            detail = _detail(command.cause)
        order.cancel(REASONS.get(command.reason, command.reason), detail)
        uow.commit()
    return StatusResult(
        order_id=order.order_id,
        status=order.status,
        reason=order.cancel_reason,
        duration_ms=_duration_ms(order, deps),
    )


def record_compensation_failure(
    command: RecordCompensationFailure, deps: StepDependencies
) -> StatusResult:
    """Mark the order for manual review (once), after a compensation gave up."""
    with UnitOfWork(deps.store, command.order_id) as uow:
        order = uow.order(command.order_id)
        if order.in_manual_review or order.is_terminal:
            return StatusResult(
                order_id=order.order_id, status=order.status, reason=command.error, changed=False
            )
        order.record_compensation_failure(
            command.failed_step, command.error, _detail(command.cause)
        )
        uow.commit()
    return StatusResult(order_id=order.order_id, status=order.status, reason=command.error)


def _duration_ms(order: Order, deps: StepDependencies) -> float | None:
    if order.created_at is None:
        return None
    return (deps.clock() - order.created_at).total_seconds() * 1000


@retry_on_conflict
def request_cancellation(command: RequestCancellation, deps: ApiDependencies) -> Order:
    """Record the request on the order's stream; the saga notices it at its next step.
    A conflict means a step appended first: reload and decide again (it may be too late)."""
    with UnitOfWork(deps.store, command.order_id) as uow:
        order = uow.order(command.order_id)
        order.request_cancellation(
            command.requested_by, command.reason, role=command.requested_by_role
        )
        uow.commit()  # nothing to write when it was asked before
    return order


def ship_order(command: ShipOrder, deps: ApiDependencies) -> StatusResult:
    with UnitOfWork(deps.store, command.order_id) as uow:
        order = uow.order(command.order_id)
        order.ship()
        uow.commit()
    return StatusResult(order_id=order.order_id, status=order.status)


def _detail(cause: str | None) -> str:
    """Lambda's error cause is a JSON document; keep its message, readable by people."""
    if not cause:
        return ""
    try:
        # Strictly: a cause with errorMessage twice is kept whole, not read as either one.
        message = strict_json.loads(cause).get("errorMessage", cause)
    except (ValueError, AttributeError, RecursionError):
        message = cause
    return str(message)[:MAX_DETAIL]
