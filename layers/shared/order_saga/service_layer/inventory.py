"""Inventory use cases: reserve an order's items all together, release exactly them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from order_saga.domain.order_status import FINISHED, OrderStatus
from order_saga.domain.values import Shortage, StockLine
from order_saga.errors import ConcurrencyError, InsufficientStock, InvalidTransition, OutOfStock
from order_saga.service_layer.conflicts import retry_on_conflict
from order_saga.service_layer.deadline import check_deadline
from order_saga.service_layer.results import ReleaseResult, ReservationResult
from order_saga.service_layer.stock_counters import open_counters
from order_saga.service_layer.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from order_saga.domain.commands import ReleaseInventory, ReserveInventory
    from order_saga.domain.order import Order
    from order_saga.service_layer.dependencies import InventoryDependencies


@retry_on_conflict
def reserve_inventory(command: ReserveInventory, deps: InventoryDependencies) -> ReservationResult:
    """Take every line's units from its product's counter and record InventoryReserved, in
    one write; the counters' conditions decide (no product stream is read)."""
    check_deadline(command, deps)
    try:
        with UnitOfWork(deps.store, command.order_id) as uow:
            order = uow.order(command.order_id)
            if order.reservation is not None:
                return ReservationResult(
                    reservation_id=order.reservation.reservation_id,
                    lines=order.reservation.lines,
                )
            if order.shortages:
                raise OutOfStock(f"order {order.order_id} could not be reserved", order.shortages)
            if not order.can_transition(OrderStatus.INVENTORY_RESERVED):
                raise InvalidTransition(
                    f"order {order.order_id} is {order.status}: it cannot reserve"
                )
            order.check_may_proceed("reserve stock for")

            lines = _lines(order)
            reservation_id = deps.new_id()
            order.reserve_inventory(reservation_id, lines)
            uow.take_stock(lines)
            uow.commit()  # the order's event and every line's counter, all or nothing
            return ReservationResult(reservation_id=reservation_id, lines=lines)
    except InsufficientStock as refused:  # nothing was written
        shortages = _shortages(deps, lines, refused)
    with UnitOfWork(deps.store, command.order_id) as uow:
        order = uow.order(command.order_id)
        if order.reservation is not None:  # a twin delivery of this step reserved meanwhile
            return ReservationResult(
                reservation_id=order.reservation.reservation_id, lines=order.reservation.lines
            )
        if not order.shortages:
            order.fail_reservation(shortages)
            uow.commit()  # the shortage is recorded on the order; no stock moved
    detail = ", ".join(f"{s.product_id}: {s.requested} requested, {s.available} available"
                       for s in shortages)  # fmt: skip
    raise OutOfStock(f"not enough stock for order {command.order_id} ({detail})", shortages)


@retry_on_conflict
def release_inventory(command: ReleaseInventory, deps: InventoryDependencies) -> ReleaseResult:
    """Record InventoryReleased and give the reserved units back to their counters, in one
    write: exactly what the order's InventoryReserved took."""
    try:
        with UnitOfWork(deps.store, command.order_id) as uow:
            order = uow.order(command.order_id)
            if order.status in FINISHED or not order.holds_inventory:
                return ReleaseResult(released=())
            event = order.release_inventory()
            uow.give_stock(event.lines)
            uow.commit()
            return ReleaseResult(released=event.lines)
    except InsufficientStock as refused:  # nothing was written
        # A product stocked before the counters, not yet migrated: open its counter (the
        # units this order holds by the product's stream are not in it), release again.
        _open_missing(deps, refused)
        raise ConcurrencyError(f"no stock counter for {sorted(refused.available)}") from refused


def _shortages(
    deps: InventoryDependencies, lines: tuple[StockLine, ...], refused: InsufficientStock
) -> tuple[Shortage, ...]:
    """The lines the counters refused. A product with no counter that has a stream gets
    its counter opened, and the reservation decides again (ConcurrencyError)."""
    _open_missing(deps, refused)
    requested = {line.product_id: line.quantity for line in lines}
    return tuple(
        Shortage(product_id=product, requested=requested[product], available=available or 0)
        for product, available in sorted(refused.available.items())
    )


def _open_missing(deps: InventoryDependencies, refused: InsufficientStock) -> None:
    missing = [product for product, available in refused.available.items() if available is None]
    if missing and open_counters(deps.store, missing):
        raise ConcurrencyError(f"stock counters of {missing} opened; decide again")


def _lines(order: Order) -> tuple[StockLine, ...]:
    return tuple(StockLine(product_id=i.product_id, quantity=i.quantity) for i in order.items)
