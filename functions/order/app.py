"""Order steps of the saga: confirm the order, cancel it as the last compensation, or
mark it for manual review when a compensation gave up."""

from order_saga import bootstrap
from order_saga.domain.commands import CancelOrder, ConfirmOrder, RecordCompensationFailure
from order_saga.entrypoints.step import step_handler
from order_saga.service_layer import orders
from order_saga.service_layer.dependencies import StepDependencies

DEPENDENCIES = bootstrap.wire(StepDependencies)  # the event store

confirm = step_handler(
    ConfirmOrder, orders.confirm_order, DEPENDENCIES, success_metric="OrdersConfirmed"
)
cancel = step_handler(
    CancelOrder, orders.cancel_order, DEPENDENCIES, success_metric="OrdersCancelled"
)
record_compensation_failure = step_handler(
    RecordCompensationFailure,
    orders.record_compensation_failure,
    DEPENDENCIES,
    success_metric="CompensationsFailed",
)
