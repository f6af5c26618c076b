"""Every minute (EventBridge Scheduler): starts or re-drives the saga of every recent order
left without one (order_saga.service_layer.saga_start)."""

from order_saga.entrypoints.scheduled import reconciler_handler

handler = reconciler_handler()
