"""Every minute (EventBridge Scheduler): starts or re-drives the saga of every recent order
left without one (order_saga.service_layer.saga_start)."""

from order_saga import bootstrap
from order_saga.entrypoints.scheduled import reconciler_handler
from order_saga.service_layer.dependencies import ReconcilerDependencies

DEPENDENCIES = bootstrap.wire(ReconcilerDependencies)  # the store, its index, the state machine

handler = reconciler_handler(DEPENDENCIES)
