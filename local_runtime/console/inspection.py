"""What the stream consumers did, as JSON-able views for the local API server to serve.

Routes (mounted by `make serve`'s server, local only, local_runtime/console/local_pages.py):

    GET /local/notifications[?order_id=...]  notifications_view: what customers were told
    GET /local/events[?order_id=...]         events_view: what was put on the event bus
    GET /local/failures                      failures_view: the consumers' failure queues

Each view first runs the consumers on whatever the event store appended since the last
look, so it shows the present. Called with ``bounded=True`` (the pages), it does not wait
for a delivery already running elsewhere (the background poller's, another page's: that
one is bringing the views up to date) and delivers for at most ``PAGE_BUDGET_S`` itself,
then answers with what the consumers did so far, from indexes kept as records arrive: a
page's time does not grow with the history, and no page waits on another.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from order_saga.adapters.notifier import RecordingNotifier

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

EVENT_BUS = "OrderEventBus"
FAILURE_QUEUES = ("NotificationsFailureQueue", "PublisherFailureQueue")
PAGE_BUDGET_S = 2.0


def _catch_up(runtime: LocalRuntime, bounded: bool) -> None:
    if bounded:
        runtime.drain_streams(wait=0, budget=PAGE_BUDGET_S)
    else:
        runtime.drain_streams()


def _notifier(runtime: LocalRuntime) -> RecordingNotifier:
    assert runtime.ports is not None, "the runtime is not started"
    notifier = runtime.ports.notifier
    if not isinstance(notifier, RecordingNotifier):
        raise TypeError(f"the local runtime records notifications; it has {notifier!r}")
    return notifier


def notifications_view(
    runtime: LocalRuntime,
    order_id: str | None = None,
    *,
    limit: int | None = None,
    bounded: bool = False,
) -> list[dict[str, Any]]:
    """Every notification sent, in sending order; only ``order_id``'s when given; only
    the newest ``limit`` when given."""
    _catch_up(runtime, bounded)
    sent = _notifier(runtime).sent(order_id)
    return [asdict(n) for n in (sent[-limit:] if limit else sent)]


def events_view(
    runtime: LocalRuntime,
    order_id: str | None = None,
    *,
    limit: int | None = None,
    bounded: bool = False,
) -> list[dict[str, Any]]:
    """Every event put on the bus as a subscriber receives it; with ``order_id``, the
    order's own events and the stock movements it caused; only the newest ``limit`` when
    given."""
    _catch_up(runtime, bounded)
    assert runtime.messaging is not None
    return runtime.messaging.published(EVENT_BUS, order_id, limit)


def failures_view(
    runtime: LocalRuntime, *, bounded: bool = False
) -> dict[str, list[dict[str, Any]]]:
    """Queue -> what reached it: records a consumer could not process, whole, and the
    coordinates of batches Lambda gave up on."""
    _catch_up(runtime, bounded)
    assert runtime.messaging is not None
    return {queue: runtime.messaging.queue(queue) for queue in FAILURE_QUEUES}
