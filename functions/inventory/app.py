"""Inventory steps of the saga: reserve the order's items, release them when compensating."""

from order_saga import bootstrap
from order_saga.domain.commands import ReleaseInventory, ReserveInventory
from order_saga.entrypoints.step import step_handler
from order_saga.errors import OutOfStock
from order_saga.service_layer import inventory
from order_saga.service_layer.dependencies import InventoryDependencies

DEPENDENCIES = bootstrap.wire(InventoryDependencies)  # the event store (orders and stock)

reserve = step_handler(
    ReserveInventory,
    inventory.reserve_inventory,
    DEPENDENCIES,
    failure_metrics={OutOfStock: "InventoryFailures"},
)
release = step_handler(ReleaseInventory, inventory.release_inventory, DEPENDENCIES)
