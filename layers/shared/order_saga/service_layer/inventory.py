"""Inventory use cases: reserve an order's items all together, release exactly them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from order_saga.domain.inventory import Inventory
from order_saga.domain.order_status import FINISHED, OrderStatus
from order_saga.domain.values import StockLine
from order_saga.errors import InvalidTransition, OutOfStock
from order_saga.service_layer.conflicts import retry_on_conflict
from order_saga.service_layer.deadline import check_deadline
from order_saga.service_layer.results import ReleaseResult, ReservationResult
from order_saga.service_layer.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from order_saga.domain.commands import ReleaseInventory, ReserveInventory
    from order_saga.domain.order import Order
    from order_saga.service_layer.dependencies import InventoryDependencies


@retry_on_conflict
def reserve_inventory(command: ReserveInventory, deps: InventoryDependencies) -> ReservationResult:
    check_deadline(command, deps)
    with UnitOfWork(deps.store, command.order_id) as uow:
        order = uow.order(command.order_id)
        if order.reservation is not None:
            return ReservationResult(
                reservation_id=order.reservation.reservation_id, lines=order.reservation.lines
            )
        if order.shortages:
            raise OutOfStock(f"order {order.order_id} could not be reserved", order.shortages)
        if not order.can_transition(OrderStatus.INVENTORY_RESERVED):
            raise InvalidTransition(f"order {order.order_id} is {order.status}: it cannot reserve")
        order.check_may_proceed("reserve stock for")

        lines = _lines(order)
        inventory = _inventory(uow, lines)
        try:
            inventory.reserve(order.order_id, lines)
        except OutOfStock as shortage:
            order.fail_reservation(shortage.shortages)
            uow.commit()  # the shortage is recorded on the order; no stock moved
            raise
        reservation_id = deps.new_id()
        order.reserve_inventory(reservation_id, lines)
        uow.commit()  # the order and every product's stock, in one transaction
    return ReservationResult(reservation_id=reservation_id, lines=lines)


@retry_on_conflict
def release_inventory(command: ReleaseInventory, deps: InventoryDependencies) -> ReleaseResult:
    with UnitOfWork(deps.store, command.order_id) as uow:
        order = uow.order(command.order_id)
        if order.status in FINISHED or not order.holds_inventory:
            return ReleaseResult(released=())
        event = order.release_inventory()
        inventory = _inventory(uow, event.lines)
        inventory.release(order.order_id, event.lines)
        uow.commit()
    return ReleaseResult(released=event.lines)


def _lines(order: Order) -> tuple[StockLine, ...]:
    return tuple(StockLine(product_id=i.product_id, quantity=i.quantity) for i in order.items)


def _inventory(uow: UnitOfWork, lines: tuple[StockLine, ...]) -> Inventory:
    return Inventory({line.product_id: uow.stock(line.product_id) for line in lines})
