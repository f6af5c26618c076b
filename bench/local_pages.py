"""How long `make serve`'s inspection pages take as the history grows.

The runtime is set up as `make serve` sets it up: the API server with the local pages
and the console, the stream consumers polled in the background. Orders are placed from
C threads until N have ended; at each checkpoint (a tenth of N, then N) the streams are
let run quiet and every page is asked ``samples`` times in turn, over HTTP. Reported per
page: the median and the slowest answer at each checkpoint, and the slowest answer while
the orders between the checkpoints were running (the poller busy with their records, the
sagas sharing the CPU with the pages).
"""

from __future__ import annotations

import statistics
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bench.orders import place_order
from bench.throughput import percentile
from order_saga.service_layer.catalog import stock_product

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

PAGES = (
    "/local/notifications",
    "/local/notifications?order_id={order}",
    "/local/events",
    "/local/events?order_id={order}",
    "/local/failures",
    "/local/manual-review",
    "/console/api/executions",
    "/console/api/executions/{order}",
)


def measure(
    runtime: LocalRuntime, orders: int, concurrency: int = 8, samples: int = 10
) -> dict[str, Any]:
    from local_runtime.emulator.api_gateway import LocalApiServer
    from local_runtime.tools.serve import mount_pages

    assert runtime.ports is not None and runtime.streams is not None
    products = [f"sku-pages-{uuid.uuid4().hex[:8]}" for _ in range(10)]
    for product in products:
        stock_product(runtime.ports, product, product, Decimal("4.50"), orders * 2)
    server = LocalApiServer(runtime, port=0)
    mount_pages(server, runtime)
    server.start()
    runtime.streams.start_polling()
    placed: list[str] = []
    try:
        checkpoints = sorted({max(1, orders // 10), orders})
        at: dict[int, dict[str, list[float]]] = {}
        busy: dict[str, list[float]] = {page: [] for page in PAGES}
        for checkpoint in checkpoints:
            stop = threading.Event()
            sampler = threading.Thread(
                target=_sample_until, args=(server.url, placed, busy, stop), daemon=True
            )
            sampler.start()
            _place(runtime, products, checkpoint - len(placed), concurrency, placed)
            stop.set()
            sampler.join()
            runtime.drain_streams()  # what the poller has not delivered yet, then quiet
            at[checkpoint] = _time_pages(server.url, placed[-1], samples)
    finally:
        runtime.streams.stop()
        server.stop()
    first, last = checkpoints[0], checkpoints[-1]
    rows = [
        {
            "page": page,
            "p50_ms_first": _ms(statistics.median(at[first][page])),
            "p50_ms": _ms(statistics.median(at[last][page])),
            "max_ms": _ms(max(at[last][page])),
            "busy_p99_ms": _ms(percentile(busy[page], 0.99)) if busy[page] else None,
            "busy_samples": len(busy[page]),
        }
        for page in PAGES
    ]
    return {
        "orders": last,
        "first_checkpoint": first,
        "concurrency": concurrency,
        "samples": samples,
        "notifications": len(runtime.ports.notifier.sent()),  # type: ignore[attr-defined]
        "pages": rows,
    }


def _place(
    runtime: LocalRuntime, products: list[str], count: int, concurrency: int, placed: list[str]
) -> None:
    def place(n: int) -> None:
        items = [{"product_id": products[n % len(products)], "quantity": 1}]
        order_id = place_order(runtime, items, "cust-pages")
        runtime.wait_for_end(order_id, timeout=300)
        placed.append(order_id)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(place, range(len(placed), len(placed) + count)))


def _get(base_url: str, path: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(base_url + path, timeout=120) as response:
        response.read()
        if response.status != 200:
            raise AssertionError(f"{path} answered {response.status}")
    return time.perf_counter() - started


def _time_pages(base_url: str, order: str, samples: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {page: [] for page in PAGES}
    for _ in range(samples):
        for page in PAGES:
            timings[page].append(_get(base_url, page.format(order=order)))
    return timings


def _sample_until(
    base_url: str, placed: list[str], busy: dict[str, list[float]], stop: threading.Event
) -> None:
    """Asks each page in turn, twice a second, while the orders run."""
    while not stop.wait(0.5):
        if not placed:
            continue
        for page in PAGES:
            busy[page].append(_get(base_url, page.format(order=placed[-1])))


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
