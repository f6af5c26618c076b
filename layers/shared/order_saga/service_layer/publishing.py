"""Publishing every domain event for other services.

EventBridge does not keep order between events, so each carries its (stream_id, version):
a subscriber that cares about order, or about duplicates, keys on that pair.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from order_saga.adapters.event_store import RecordedEvent
    from order_saga.service_layer.ports import Ports


def wants(record: RecordedEvent) -> bool:
    return True


def publish(record: RecordedEvent, ports: Ports) -> dict[str, Any]:
    if ports.publisher is None:
        raise RuntimeError("no event publisher is wired: set EVENT_BUS_NAME")
    return {"event_id": ports.publisher.publish(record)}
