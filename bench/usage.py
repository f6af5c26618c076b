"""What one order uses of AWS, path by path, counted from real runs on the local runtime.

Each path is run a few times, each time with its own product, and the run with the
median execution time is kept. Counted for each order, from the moment the API is
called to the moment its execution has ended:

- state transitions and the Lambda invocations of the saga: from the execution history;
- the Api function's invocation, and each invocation's handler time: from the Lambda
  service the runtime serves;
- DynamoDB requests and request units: from the handlers' boto3 calls (bench/meter.py);
- API requests: one POST /orders.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3

from bench import history
from bench.costs import Usage
from bench.meter import Meter
from local_runtime.emulator.faults import Fault
from local_runtime.sample_catalog import ADDRESS
from order_saga import bootstrap
from order_saga.errors import GatewayUnavailable
from order_saga.service_layer.catalog import stock_product

if TYPE_CHECKING:
    from collections.abc import Callable

    from local_runtime.runtime import Execution, LocalRuntime


class InjectedFault(Exception):
    """An error the ASL does not name: it stands for any failure of a step."""


@dataclass(frozen=True)
class SagaPath:
    name: str
    expected: list[str]
    """The states the execution must go through."""
    quantity: int = 1
    payment_method: str = "tok_visa"
    stock: int = 10
    history: int = 0
    """Past orders of the product (a popular product), written by bench/history.py."""
    fault: tuple[str, Callable[[], Fault]] | None = None


HAPPY = ["ProcessPayment", "ReserveInventory", "ConfirmOrder"]
COMPENSATION = ["RefundPayment", "ReleaseInventory", "CancelOrder", "OrderCancelled"]
PATHS = (
    SagaPath("happy path", HAPPY),
    SagaPath("payment declined", ["ProcessPayment", "CancelOrder", "OrderCancelled"],
         payment_method="tok_chargeDeclined"),
    SagaPath("out of stock", ["ProcessPayment", "ReserveInventory", *COMPENSATION],
         quantity=3, stock=2),
    SagaPath("failure in confirm", [*HAPPY, *COMPENSATION],
         fault=("ConfirmOrderFunction", lambda: Fault(InjectedFault("confirm failed")))),
    SagaPath("transient error retried", HAPPY,
         fault=("ProcessPaymentFunction", lambda: Fault(GatewayUnavailable("blip")))),
    SagaPath("happy path, product with 1,000 past orders", HAPPY, history=1000, stock=10),
)  # fmt: skip


@dataclass(frozen=True)
class PathUsage:
    path: str
    expected: list[str]
    execution: Execution
    usage: Usage
    requests: dict[str, int]


class TimedFunctions:
    """Times every invocation the runtime's Lambda service answers."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self._invoke = runtime.functions.invoke
        self._lock = threading.Lock()
        self.durations: list[tuple[str, float]] = []
        runtime.functions.invoke = self.invoke  # type: ignore[method-assign]

    def invoke(self, name_or_arn: str, payload: Any) -> tuple[Any, str | None]:
        start = time.perf_counter()
        try:
            return self._invoke(name_or_arn, payload)
        finally:
            elapsed = (time.perf_counter() - start) * 1000
            with self._lock:
                self.durations.append((name_or_arn.rsplit(":", 1)[-1], elapsed))

    def take(self) -> list[tuple[str, float]]:
        with self._lock:
            taken, self.durations = self.durations, []
        return taken


def measure(runtime: LocalRuntime, repeats: int = 3) -> list[PathUsage]:
    """Every path in PATHS, ``repeats`` times each; the median run of each."""
    meter = Meter()
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    meter.attach(boto3.DEFAULT_SESSION)  # the handlers' clients will come from it
    _rewire(runtime)
    timed = TimedFunctions(runtime)
    results = []
    for path in PATHS:
        runs = [_run(runtime, meter, timed, path) for _ in range(repeats)]
        counts = {
            (r.usage.state_transitions, r.usage.write_units, r.usage.read_units) for r in runs
        }
        if len(counts) != 1:
            raise AssertionError(f"{path.name}: runs disagree on what they used: {counts}")
        runs.sort(key=lambda r: r.execution.duration_ms)
        results.append(runs[len(runs) // 2])
    return results


def _rewire(runtime: LocalRuntime) -> None:
    """Build the ports again, so their clients come from the metered session."""
    ports = bootstrap.from_environment(os.environ)
    bootstrap.use(ports)
    runtime.ports = ports


def _run(runtime: LocalRuntime, meter: Meter, timed: TimedFunctions, path: SagaPath) -> PathUsage:
    assert runtime.ports is not None
    product = f"sku-bench-{uuid.uuid4().hex[:10]}"
    if path.history:
        history.add(runtime, product, path.history, stock=path.stock)
    else:
        stock_product(runtime.ports, product, product, Decimal("12.50"), path.stock)
    if path.fault:
        function, fault = path.fault
        runtime.functions.inject(function, fault())
    meter.reset()
    timed.take()
    status, body, _ = runtime.api(
        "POST",
        "/orders",
        {
            "items": [{"product_id": product, "quantity": path.quantity}],
            "shipping_address": ADDRESS,
            "payment_method": path.payment_method,
        },
        {"X-Customer-Id": "cust-bench"},
    )
    if status != 202:
        raise AssertionError(f"{path.name}: the API answered {status}: {body}")
    execution = runtime.wait(body["order_id"])
    tally, durations = meter.reset(), timed.take()
    if execution.path != path.expected:
        raise AssertionError(f"{path.name}: went {execution.path}, not {path.expected}")
    usage = Usage(
        state_transitions=execution.state_transitions,
        lambda_durations_ms=tuple(ms for _, ms in durations),
        write_units=tally.write_units,
        read_units=tally.read_units,
        api_requests=1,
        execution_ms=execution.duration_ms,
        dynamodb_requests=tally.dynamodb_requests,
    )
    if usage.lambda_invocations != execution.lambda_invocations + 1:
        raise AssertionError(f"{path.name}: {durations} is not the API plus the saga's calls")
    requests = {
        key: n
        for key, n in sorted(tally.requests.items())
        if key.startswith("dynamodb.") or key == "stepfunctions.StartExecution"
    }
    return PathUsage(path.name, path.expected, execution, usage, requests)


def summary(result: PathUsage) -> dict[str, Any]:
    usage = result.usage
    return {
        "path": result.path,
        "states": result.execution.path,
        "expected": result.expected,
        "state_transitions": usage.state_transitions,
        "lambda_invocations": usage.lambda_invocations,
        "lambda_ms": [round(ms, 2) for ms in usage.lambda_durations_ms],
        "lambda_ms_median": round(statistics.median(usage.lambda_durations_ms), 2),
        "dynamodb_requests": usage.dynamodb_requests,
        "write_units": str(usage.write_units),
        "read_units": str(usage.read_units),
        "api_requests": usage.api_requests,
        "execution_ms": round(usage.execution_ms, 1),
        "requests": result.requests,
    }


def warm_up(runtime: LocalRuntime) -> None:
    """One order that succeeds and one that is compensated, not measured: every handler
    module is imported (an in-process cold start) before anything is timed."""
    assert runtime.ports is not None
    product = f"sku-warm-{uuid.uuid4().hex[:8]}"
    stock_product(runtime.ports, product, product, Decimal("1.00"), 1)
    for quantity in (1, 5):  # the second finds no stock left: the whole compensation
        _, body, _ = runtime.api(
            "POST",
            "/orders",
            {
                "items": [{"product_id": product, "quantity": quantity}],
                "shipping_address": ADDRESS,
                "payment_method": "tok_visa",
            },
            {"X-Customer-Id": "cust-warm"},
        )
        runtime.wait(body["order_id"])
