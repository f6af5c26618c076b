"""Order steps of the saga: confirm the order, or cancel it as the last compensation."""

from order_saga.domain.commands import CancelOrder, ConfirmOrder
from order_saga.entrypoints.step import step_handler
from order_saga.service_layer import orders

confirm = step_handler(ConfirmOrder, orders.confirm_order, success_metric="OrdersConfirmed")
cancel = step_handler(CancelOrder, orders.cancel_order, success_metric="OrdersCancelled")
