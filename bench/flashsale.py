"""A flash sale: the same orders for one product, and spread over twenty, side by side.

The local runtime is started with DynamoDB's latency modelled
(``LocalRuntime(dynamodb_latency=...)``, local_runtime/patches/dynamodb_latency.py):
every request waits its way there and back outside moto's lock, so requests overlap as
on AWS, and a transaction holds its items while its answer travels back, so two
reservations of one product that overlap conflict as they would on DynamoDB. A tenth of a
second stands for DynamoDB's few milliseconds at a proportionally higher arrival rate.

Each scenario places the same N orders (one line each, one or two units, stock enough
for all) from C threads at once, each thread waiting for its saga to end before placing
the next: first over P products, then all for one. Reported for each: orders per second,
the hot product's rate as a fraction of the spread one (the ratio the target holds: on
one machine in one run, so the machine's speed cancels out), attempts per reservation
(the transactions that touched a product's stock, committed or cancelled, per order
reserved), orders cancelled for anything but a shortage (contention), and p50/p99 of the
executions' own durations.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bench.orders import place_order
from bench.throughput import percentile
from local_runtime.patches import dynamodb_latency
from order_saga.service_layer.catalog import stock_product

if TYPE_CHECKING:
    from collections.abc import Iterable

    from local_runtime.runtime import LocalRuntime


def touches_stock(keys: Iterable[dict[str, Any]]) -> bool:
    """A transaction on some product's stock: its counter item, or its stock stream."""
    return any(
        "product_id" in key or key.get("stream_id", {}).get("S", "").startswith("product#")
        for key in keys
    )


def measure(
    runtime: LocalRuntime,
    orders: int = 200,
    concurrency: int = 64,
    products: int = 20,
    seed: int = 11,
) -> dict[str, Any]:
    rng = random.Random(seed)
    quantities = [rng.randint(1, 2) for _ in range(orders)]
    spread = _scenario(runtime, f"{products} products", quantities, products, concurrency)
    hot = _scenario(runtime, "1 product", quantities, 1, concurrency)
    return {
        "orders": orders,
        "concurrency": concurrency,
        "latency_s": runtime.dynamodb_latency,
        "hold_s": runtime.dynamodb_latency / 2,
        "scenarios": [hot, spread],
        "rate_ratio": round(hot["orders_per_s"] / spread["orders_per_s"], 2),
    }


def _scenario(
    runtime: LocalRuntime, name: str, quantities: list[int], products: int, concurrency: int
) -> dict[str, Any]:
    assert runtime.ports is not None
    catalog = [f"sku-flash-{uuid.uuid4().hex[:8]}" for _ in range(products)]
    for product in catalog:
        stock_product(runtime.ports, product, product, Decimal("9.90"), 3 * sum(quantities))
    baskets = [
        [{"product_id": catalog[index % products], "quantity": quantity}]
        for index, quantity in enumerate(quantities)
    ]

    def place(items: list[dict[str, Any]]) -> dict[str, Any]:
        return runtime.wait_for_end(place_order(runtime, items, "cust-flash"), timeout=600)

    invoked = Counter(runtime.functions.invocations)
    dynamodb_latency.reset_stats(touches_stock)
    started, started_cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        ended = list(pool.map(place, baskets))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    transactions = dynamodb_latency.reset_stats()
    invocations = Counter(runtime.functions.invocations) - invoked
    durations = [(e["stopDate"] - e["startDate"]).total_seconds() * 1000 for e in ended]
    outcomes = Counter(f"{e['status']} {e.get('error') or ''}".strip() for e in ended)
    reserved = outcomes["SUCCEEDED"]
    contention = sum(
        n for key, n in outcomes.items() if key not in ("SUCCEEDED", "FAILED OutOfStock")
    )
    attempts = sum(n for what, n in transactions.items() if what.startswith("transaction"))
    return {
        "scenario": name,
        "products": products,
        "orders": len(quantities),
        "wall_s": round(elapsed, 2),
        "orders_per_s": round(len(quantities) / elapsed, 1),
        "attempts_per_reservation": round(attempts / reserved, 2) if reserved else None,
        "transactions": dict(transactions),
        "reserve_invocations_per_order": round(
            invocations["ReserveInventoryFunction"] / len(quantities), 2
        ),
        "contention_cancellations": contention,
        "p50_ms": round(statistics.median(durations), 1),
        "p99_ms": round(percentile(durations, 0.99), 1),
        "cpu_ms_per_order": round(cpu * 1000 / len(quantities), 1),
        "outcomes": dict(outcomes),
    }
