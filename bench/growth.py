"""What a reservation costs as its product's history grows: 10, 1,000 and 100,000 past orders.

The history is written with the store's own append path (as many events per call as a
transaction takes), not through as many sagas: ``history.add`` puts the product's past
orders where the inventory design keeps them. Then a few orders for the product run the
whole saga through the local runtime, and their ReserveInventory invocations are
counted: DynamoDB requests, read and write units and bytes read (bench/meter.py, by the
function that made them), and the handler's time (median). A design whose reservation
does not depend on the history shows the same figures on every row. The histories are
all written first and the rows measured in turn, one reservation each per round, so a
shared machine's changing load weighs on every row alike.
"""

from __future__ import annotations

import statistics
import time
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3

from bench import history
from bench.meter import Meter
from bench.orders import place_order
from bench.usage import _rewire

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

PAST_ORDERS = (10, 1_000, 100_000)
RESERVE = "ReserveInventoryFunction"


class ScopedFunctions:
    """Counts each invocation's requests under its function's name (Meter.scope), and
    times the invocations of one function."""

    def __init__(self, runtime: LocalRuntime, meter: Meter, timed: str) -> None:
        self._invoke = runtime.functions.invoke
        self._meter, self._timed = meter, timed
        self.durations: list[float] = []
        runtime.functions.invoke = self.invoke  # type: ignore[method-assign]

    def invoke(self, name_or_arn: str, payload: Any) -> tuple[Any, str | None]:
        name = self._invoke.__self__.spec(name_or_arn).logical_id  # type: ignore[attr-defined]
        self._meter.scope(name)
        start = time.perf_counter()
        try:
            return self._invoke(name_or_arn, payload)
        finally:
            if name == self._timed:
                self.durations.append((time.perf_counter() - start) * 1000)
            self._meter.scope(None)


def measure(
    runtime: LocalRuntime, samples: int = 5, past_orders: tuple[int, ...] = PAST_ORDERS
) -> list[dict[str, Any]]:
    assert runtime.ports is not None
    meter = Meter()
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    meter.attach(boto3.DEFAULT_SESSION)
    _rewire(runtime)
    functions = ScopedFunctions(runtime, meter, RESERVE)
    products, built = {}, {}
    for past in past_orders:
        product = products[past] = f"sku-growth-{uuid.uuid4().hex[:8]}"
        started = time.perf_counter()
        history.add(runtime, product, past, stock=10 * samples)
        built[past] = round(time.perf_counter() - started, 1)
    # Round-robin, so that a shared machine's load weighs on every row alike.
    reservations: dict[int, list[dict[str, Any]]] = {past: [] for past in past_orders}
    for _ in range(samples):
        for past in past_orders:
            reservations[past].append(_reserve_once(runtime, meter, functions, products[past]))
    rows = []
    for past in past_orders:
        measured = reservations[past]
        row: dict[str, Any] = {
            "past_orders": past,
            "history_built_s": built[past],
            "samples": samples,
            "outcomes": sorted({r["outcome"] for r in measured}),
        }
        for key in ("requests", "read_units", "write_units", "read_bytes", "ms"):
            row[key] = statistics.median(r[key] for r in measured)
        row["ms"] = round(row["ms"], 2)
        for key in ("read_units", "write_units"):
            row[key] = str(Decimal(row[key]).normalize())
        rows.append(row)
    return rows


def _reserve_once(
    runtime: LocalRuntime, meter: Meter, functions: ScopedFunctions, product: str
) -> dict[str, Any]:
    meter.reset()
    functions.durations.clear()
    order_id = place_order(runtime, [{"product_id": product, "quantity": 1}], "cust-growth")
    ended = runtime.wait_for_end(order_id, timeout=600)
    # A step timed out goes on running in-process, as on Lambda until its own timeout.
    deadline = time.monotonic() + 120
    while not functions.durations and time.monotonic() < deadline:
        time.sleep(0.05)
    tally = meter.by_scope.get(RESERVE)
    if tally is None or not functions.durations:
        raise AssertionError(f"{order_id} never reached ReserveInventory: {ended}")
    return {
        "outcome": f"{ended['status']} {ended.get('error') or ''}".strip(),
        "requests": tally.dynamodb_requests,
        "read_units": tally.read_units,
        "write_units": tally.write_units,
        "read_bytes": tally.read_bytes,
        "ms": sum(functions.durations),
    }
