"""Inventory use cases: reserve an order's items all together, release exactly them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from order_saga.domain.inventory import Inventory
from order_saga.domain.order import FINISHED, OrderStatus
from order_saga.domain.values import StockLine
from order_saga.errors import InvalidTransition, OutOfStock
from order_saga.service_layer.conflicts import retry_on_conflict
from order_saga.service_layer.deadline import check_deadline
from order_saga.service_layer.repository import (
    load_order,
    load_stock,
    order_append,
    save_order,
    stock_appends,
)
from order_saga.service_layer.results import ReleaseResult, ReservationResult

if TYPE_CHECKING:
    from order_saga.adapters.event_store import EventStore
    from order_saga.domain.commands import ReleaseInventory, ReserveInventory
    from order_saga.domain.order import Order
    from order_saga.service_layer.ports import Ports


@retry_on_conflict
def reserve_inventory(command: ReserveInventory, ports: Ports) -> ReservationResult:
    check_deadline(command, ports)
    order = load_order(ports.store, command.order_id)
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
    inventory = _inventory(ports.store, lines)
    try:
        inventory.reserve(order.order_id, lines)
    except OutOfStock as shortage:
        order.fail_reservation(shortage.shortages)
        save_order(ports.store, order)
        raise
    reservation_id = ports.new_id()
    order.reserve_inventory(reservation_id, lines)
    ports.store.append_streams(
        [order_append(order), *stock_appends(inventory.changed())], correlation_id=order.order_id
    )
    return ReservationResult(reservation_id=reservation_id, lines=lines)


@retry_on_conflict
def release_inventory(command: ReleaseInventory, ports: Ports) -> ReleaseResult:
    order = load_order(ports.store, command.order_id)
    if order.status in FINISHED or not order.holds_inventory:
        return ReleaseResult(released=())
    event = order.release_inventory()
    inventory = _inventory(ports.store, event.lines)
    inventory.release(order.order_id, event.lines)
    ports.store.append_streams(
        [order_append(order), *stock_appends(inventory.changed())], correlation_id=order.order_id
    )
    return ReleaseResult(released=event.lines)


def _lines(order: Order) -> tuple[StockLine, ...]:
    return tuple(StockLine(product_id=i.product_id, quantity=i.quantity) for i in order.items)


def _inventory(store: EventStore, lines: tuple[StockLine, ...]) -> Inventory:
    return Inventory({line.product_id: load_stock(store, line.product_id) for line in lines})
