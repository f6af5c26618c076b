"""Keeps the read model (the order summaries GET /orders lists) from the event store's
stream (order_saga.entrypoints.stream; the projection in service_layer/projection.py)."""

from order_saga import bootstrap
from order_saga.entrypoints.stream import StreamConsumer, stream_handler
from order_saga.service_layer import projection
from order_saga.service_layer.dependencies import ViewsDependencies

# the event store (an order's stream, past a gap), the read model, idempotency records,
# failure queue
DEPENDENCIES = bootstrap.wire(ViewsDependencies)

CONSUMER = StreamConsumer(
    name="views",
    key_prefix="view",
    wants=projection.wants,
    handle=projection.project,
    metric="OrderSummariesUpdated",
)
handler = stream_handler(CONSUMER, DEPENDENCIES)
