"""Starts the saga of every new order from the event store's stream: the stream is the
outbox of the API's OrderCreated (order_saga.service_layer.saga_start)."""

from order_saga.entrypoints.stream import StreamConsumer, stream_handler
from order_saga.service_layer import saga_start

CONSUMER = StreamConsumer(
    name="saga_starter",
    key_prefix="saga-start",
    wants=saga_start.wants,
    handle=lambda recorded, ports: saga_start.start_from_event(recorded, ports.saga),
    metric="SagasStartedByRelay",
)
handler = stream_handler(CONSUMER)
