"""Orders per second through the local runtime, and how long each saga took.

In each of three rounds, N orders are posted to the API from C threads (each thread
posts an order, waits for its saga to end, posts the next), over a catalog of P
products with stock enough for every order, each order taking one to three of them at
random. Reported, for the round with the median rate: orders per second of wall time,
the p50 and p99 of the executions' own durations (from their start and stop dates), the
CPU time the whole process spent per order, how every execution ended, and the Lambda
invocations per order (above 4 when steps were retried, as a step that lost a race for
a product's stream is).
"""

from __future__ import annotations

import os
import random
import statistics
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bench.orders import place_order
from order_saga.service_layer.catalog import stock_product

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest value at or above ``fraction`` of them."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(1, -(-int(fraction * 1000) * len(ordered) // 1000))
    return ordered[rank - 1]


def measure(
    runtime: LocalRuntime,
    orders: int,
    concurrency: int,
    products: int,
    rounds: int = 3,
    seed: int = 7,
) -> dict[str, Any]:
    """``rounds`` batches of ``orders`` orders, one after the other on the same shop;
    the batch with the median rate is reported (a shared machine's other load comes and
    goes), with every batch's rate beside it."""
    assert runtime.ports is not None
    rng = random.Random(seed)
    catalog = [f"sku-load-{uuid.uuid4().hex[:8]}" for _ in range(products)]
    for product in catalog:
        stock_product(runtime.ports, product, product, Decimal("9.90"), orders * rounds * 2)
    batches = [_batch(runtime, rng, catalog, orders, concurrency) for _ in range(rounds)]
    batches.sort(key=lambda batch: batch["orders_per_s"])
    median = batches[len(batches) // 2]
    return {
        **median,
        "concurrency": concurrency,
        "products": products,
        "rounds_orders_per_s": [batch["orders_per_s"] for batch in batches],
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _batch(
    runtime: LocalRuntime, rng: random.Random, catalog: list[str], orders: int, concurrency: int
) -> dict[str, Any]:
    baskets = [
        [{"product_id": p, "quantity": rng.randint(1, 2)} for p in rng.sample(catalog, k)]
        for k in (rng.randint(1, min(3, len(catalog))) for _ in range(orders))
    ]

    def place(items: list[dict[str, Any]]) -> dict[str, Any]:
        return runtime.wait_for_end(place_order(runtime, items, "cust-load"), timeout=300)

    invoked, failed = Counter(runtime.functions.invocations), Counter(runtime.functions.errors)
    started, started_cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        ended = list(pool.map(place, baskets))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    durations = [(e["stopDate"] - e["startDate"]).total_seconds() * 1000 for e in ended]
    outcomes = Counter(f"{e['status']} {e.get('error') or ''}".strip() for e in ended)
    invocations = Counter(runtime.functions.invocations) - invoked
    errors = Counter(runtime.functions.errors) - failed
    return {
        "orders": orders,
        "wall_s": round(elapsed, 2),
        "orders_per_s": round(orders / elapsed, 1),
        "p50_ms": round(statistics.median(durations), 1),
        "p99_ms": round(percentile(durations, 0.99), 1),
        "cpu_ms_per_order": round(cpu * 1000 / orders, 1),
        "orders_per_cpu_s": round(orders / cpu, 1),
        "outcomes": dict(outcomes),
        "lambda_invocations_per_order": round(sum(invocations.values()) / orders, 2),
        "lambda_errors": dict(errors),
    }
