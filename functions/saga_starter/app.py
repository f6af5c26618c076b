"""Starts the saga of every new order from the event store's stream: the stream is the
outbox of the API's OrderCreated (order_saga.service_layer.saga_start)."""

from order_saga import bootstrap
from order_saga.entrypoints.stream import StreamConsumer, stream_handler
from order_saga.service_layer import saga_start
from order_saga.service_layer.dependencies import SagaStarterDependencies

DEPENDENCIES = bootstrap.wire(SagaStarterDependencies)  # the state machine, idempotency, queue

CONSUMER = StreamConsumer(
    name="saga_starter",
    key_prefix="saga-start",
    wants=saga_start.wants,
    handle=saga_start.start_from_event,
    metric="SagasStartedByRelay",
)
handler = stream_handler(CONSUMER, DEPENDENCIES)
