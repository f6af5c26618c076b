"""Tells customers about their orders: OrderConfirmed, OrderCancelled, PaymentRefunded,
OrderShipped, read from the event store's stream (order_saga.entrypoints.stream)."""

from order_saga import bootstrap
from order_saga.entrypoints.stream import StreamConsumer, stream_handler
from order_saga.service_layer import notifications
from order_saga.service_layer.dependencies import NotificationsDependencies

# the event store (an order's history), the notifier, idempotency records, failure queue
DEPENDENCIES = bootstrap.wire(NotificationsDependencies)

CONSUMER = StreamConsumer(
    name="notifications",
    key_prefix="notify",
    wants=notifications.wants,
    handle=notifications.notify,
    metric="NotificationsSent",
)
handler = stream_handler(CONSUMER, DEPENDENCIES)
