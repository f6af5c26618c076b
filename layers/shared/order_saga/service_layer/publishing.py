"""Publishing every domain event for other services.

EventBridge does not keep order between events, so each carries its (stream_id, version):
a subscriber that cares about order, or about duplicates, keys on that pair.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from order_saga.adapters.event_store import RecordedEvent
    from order_saga.service_layer.dependencies import PublisherDependencies


def wants(record: RecordedEvent) -> bool:
    return True


def publish(record: RecordedEvent, deps: PublisherDependencies) -> dict[str, Any]:
    return {"event_id": deps.publisher.publish(record)}
