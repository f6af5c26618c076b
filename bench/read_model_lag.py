"""How far the read model lags the event store: from an event's append to its order's
summary showing it, through the local runtime's stream driver.

The stream driver polls the event store's stream every 0.25 s, as Lambda polls a DynamoDB
stream shard (four times a second), and hands each batch to the views consumer as its
event source mapping would. N orders are placed from C threads, each
pausing half a second between its orders; a watcher reads the
read model every 20 ms and notes, for each order, when its summary first shows
OrderCreated and when it shows the order's last event (to within 20 ms). Lag = that moment minus the
event's append time (its occurred_at). On AWS add Lambda's own delivery delay (typically
well under a second); the figures here are the design's lag, not AWS's.
"""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bench.orders import place_order
from bench.throughput import percentile
from order_saga.service_layer.catalog import stock_product
from order_saga.service_layer.repository import order_stream

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

POLL_SECONDS = 0.25
"""The stream driver's polling interval: Lambda polls each shard four times a second."""
PAUSE_SECONDS = 0.5
"""Each placing thread waits this long between its orders: a steady arrival rate the local
consumers keep up with (in one process on a shared machine, each stream record costs them
tens of milliseconds of moto), so the lag measured is the pipeline's, not a backlog's."""
WATCH_SECONDS = 0.02
"""How often the watcher looks: the lag is known to within this."""


def measure(
    runtime: LocalRuntime, orders: int, concurrency: int, pause: float = PAUSE_SECONDS
) -> dict[str, Any]:
    assert runtime.ports is not None and runtime.streams is not None
    ports = runtime.ports
    product = "sku-lag-bench"
    stock_product(ports, product, product, Decimal("4.50"), orders * 2)
    runtime.drain_streams()
    pending: dict[tuple[str, int], float] = {}
    """(order id, version) -> its append time, epoch seconds, while not yet visible."""
    lags: list[float] = []
    lock = threading.Lock()
    done = threading.Event()

    def watch() -> None:
        while True:
            with lock:
                waiting = list(pending.items())
            if done.is_set() and (not waiting or time.time() > give_up[0]):
                return
            # One Scan per look (one request to moto, whatever is pending), not a GetItem
            # per order: the watcher must not compete with the consumers it measures.
            versions = {summary.order_id: summary.version for summary in ports.read_model.scan()}
            seen = time.time()
            for (order_id, version), appended in waiting:
                if versions.get(order_id, 0) >= version:
                    with lock:
                        pending.pop((order_id, version), None)
                        lags.append((seen - appended) * 1000)
            time.sleep(WATCH_SECONDS)

    give_up = [float("inf")]

    def place(n: int) -> None:
        order_id = place_order(
            runtime, [{"product_id": product, "quantity": 1}], f"cust-lag-{n % 10}"
        )
        records = ports.store.load(order_stream(order_id))
        with lock:
            pending[(order_id, 1)] = records[0].occurred_at.timestamp()
        runtime.wait_for_end(order_id, timeout=300)
        records = ports.store.load(order_stream(order_id))
        with lock:
            pending[(order_id, records[-1].version)] = records[-1].occurred_at.timestamp()
        time.sleep(pause)

    watcher = threading.Thread(target=watch, daemon=True, name="read-model-watch")
    runtime.streams.start_polling(POLL_SECONDS)
    watcher.start()
    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(place, range(orders)))
        elapsed = time.perf_counter() - started
        give_up[0] = time.time() + 30
        done.set()
        watcher.join(timeout=40)
    finally:
        runtime.streams.stop()
    unseen = len(pending)
    return {
        "orders": orders,
        "concurrency": concurrency,
        "poll_interval_ms": POLL_SECONDS * 1000,
        "pause_ms": pause * 1000,
        "orders_per_s": round(orders / elapsed, 2),
        "events_timed": len(lags),
        "never_visible": unseen,
        "p50_ms": round(statistics.median(lags), 1) if lags else None,
        "p99_ms": round(percentile(lags, 0.99), 1) if lags else None,
        "max_ms": round(max(lags), 1) if lags else None,
    }
