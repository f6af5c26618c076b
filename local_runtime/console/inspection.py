"""What the stream consumers did, as JSON-able views for the local API server to serve.

Intended routes (mounted by `make serve`'s server, local only):

    GET /local/notifications[?order_id=...]  notifications_view: what customers were told
    GET /local/events[?order_id=...]         events_view: what was put on the event bus
    GET /local/failures                      failures_view: the consumers' failure queues

Each view first runs the consumers on whatever the event store appended since the last
look, so it always shows the present.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from order_saga.adapters.notifier import RecordingNotifier

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

EVENT_BUS = "OrderEventBus"
FAILURE_QUEUES = ("NotificationsFailureQueue", "PublisherFailureQueue")


def _notifier(runtime: LocalRuntime) -> RecordingNotifier:
    assert runtime.ports is not None, "the runtime is not started"
    notifier = runtime.ports.notifier
    if not isinstance(notifier, RecordingNotifier):
        raise TypeError(f"the local runtime records notifications; it has {notifier!r}")
    return notifier


def notifications_view(runtime: LocalRuntime, order_id: str | None = None) -> list[dict[str, Any]]:
    """Every notification sent, in sending order; only ``order_id``'s when given."""
    runtime.drain_streams()
    return [asdict(n) for n in _notifier(runtime).sent(order_id)]


def events_view(runtime: LocalRuntime, order_id: str | None = None) -> list[dict[str, Any]]:
    """Every event put on the bus as a subscriber receives it; with ``order_id``, the
    order's own events and the stock movements it caused."""
    runtime.drain_streams()
    assert runtime.messaging is not None
    return runtime.messaging.published(EVENT_BUS, order_id)


def failures_view(runtime: LocalRuntime) -> dict[str, list[dict[str, Any]]]:
    """Queue -> what reached it: records a consumer could not process, whole, and the
    coordinates of batches Lambda gave up on."""
    runtime.drain_streams()
    assert runtime.messaging is not None
    return {queue: runtime.messaging.queue(queue) for queue in FAILURE_QUEUES}
