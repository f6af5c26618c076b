"""Puts every domain event of the event store's stream on the order event bus
(schemas/domain-event.v1.json), so other services never read the store."""

from order_saga import bootstrap
from order_saga.entrypoints.stream import StreamConsumer, stream_handler
from order_saga.service_layer import publishing
from order_saga.service_layer.dependencies import PublisherDependencies

DEPENDENCIES = bootstrap.wire(PublisherDependencies)  # the bus, idempotency, failure queue

CONSUMER = StreamConsumer(
    name="publisher",
    key_prefix="publish",
    wants=publishing.wants,
    handle=publishing.publish,
    metric="DomainEventsPublished",
)
handler = stream_handler(CONSUMER, DEPENDENCIES)
