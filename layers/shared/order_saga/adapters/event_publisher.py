"""The published-event port: every domain event, for services that must not read the store.

The contract is schemas/domain-event.v1.json (documented in docs/events.md): source
``order-saga.orders``, detail-type the event's type, detail the stored event. A change to
it that a subscriber could notice is a new schema file, never an edit of v1.
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from order_saga.errors import PublishFailed

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

    from order_saga.adapters.event_store import RecordedEvent

SOURCE = "order-saga.orders"


def event_detail(record: RecordedEvent) -> dict[str, Any]:
    """The event as subscribers receive it, in its type's current shape (an event stored
    in an older one is upcast, so the published schema describes every event); (stream_id,
    version) is its identity."""
    record = record.current()
    return {
        "stream_id": record.stream_id,
        "version": record.version,
        "schema_version": record.schema_version,
        "occurred_at": record.occurred_at.isoformat(timespec="milliseconds"),
        "correlation_id": record.correlation_id,
        "data": record.data,
    }


def event_entry(record: RecordedEvent, bus_name: str) -> dict[str, Any]:
    """One PutEvents entry. ``Time`` is when the event happened, not when it was sent."""
    return {
        "EventBusName": bus_name,
        "Source": SOURCE,
        "DetailType": record.event_type,
        "Detail": json.dumps(event_detail(record), separators=(",", ":")),
        "Time": record.occurred_at,
    }


class EventPublisher(ABC):
    @abstractmethod
    def publish(self, record: RecordedEvent) -> str:
        """Put the event on the bus; returns the bus's id for it."""


class EventBridgePublisher(EventPublisher):
    """One entry per call: the stream consumer settles (and deduplicates) each record on its
    own, and PutEvents is billed per entry, so batching entries would save nothing but
    latency while mixing the fate of several records."""

    def __init__(self, bus_name: str, client: EventBridgeClient) -> None:
        self.bus_name = bus_name
        self._client = client

    def publish(self, record: RecordedEvent) -> str:
        try:
            response = self._client.put_events(Entries=[event_entry(record, self.bus_name)])
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "unknown")
            raise PublishFailed(f"PutEvents failed: {code}") from exc
        (entry,) = response["Entries"]
        if response.get("FailedEntryCount") or "EventId" not in entry:
            raise PublishFailed(
                f"the bus refused {record.event_type} {record.stream_id} v{record.version}: "
                f"{entry.get('ErrorCode', 'unknown')} {entry.get('ErrorMessage', '')}".rstrip()
            )
        return entry["EventId"]


class RecordingEventPublisher(EventPublisher):
    """Keeps the entries it would have put, for the unit tests."""

    def __init__(self, bus_name: str = "local-bus") -> None:
        self.bus_name = bus_name
        self.entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def publish(self, record: RecordedEvent) -> str:
        with self._lock:
            self.entries.append(event_entry(record, self.bus_name))
            return f"local-event-{len(self.entries)}"
