"""Orders placed on the local runtime, and how each ended, for the reliability runs."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from local_runtime.runtime import LocalRuntime
from local_runtime.sample_catalog import ADDRESS
from ops.invariants import InvariantReport, check_store, gateway_ledger
from order_saga.service_layer.catalog import stock_product
from order_saga.service_layer.ids import order_id_for
from order_saga.service_layer.views import order_view

if TYPE_CHECKING:
    from collections.abc import Sequence

    from order_saga.adapters.payment_gateway import SimulatedPaymentGateway
    from order_saga.service_layer.ports import Ports


@dataclass(frozen=True)
class Order:
    key: str
    """Its Idempotency-Key, from which the server derives its id (and its customer)."""
    lines: tuple[tuple[str, int], ...]
    payment_method: str = "tok_visa"

    @property
    def customer_id(self) -> str:
        return f"cust-{self.key[-8:]}"

    @property
    def order_id(self) -> str:
        return order_id_for(self.customer_id, self.key)

    def headers(self) -> dict[str, str]:
        return {"X-Customer-Id": self.customer_id, "Idempotency-Key": self.key}

    def body(self) -> dict[str, Any]:
        return {
            "items": [{"product_id": p, "quantity": q} for p, q in self.lines],
            "shipping_address": ADDRESS,
            "payment_method": self.payment_method,
        }


@dataclass
class Outcome:
    order_id: str
    accepted: int
    """The API's status code for placing it."""
    status: str
    reason: str | None
    in_review: bool


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def stock(ports: Ports, price: str, quantity: int) -> str:
    product_id = new_id("sku")
    stock_product(ports, product_id, product_id, Decimal(price), quantity)
    return product_id


def place_at_once(runtime: LocalRuntime, orders: Sequence[Order], workers: int) -> list[int]:
    """POST every order from ``workers`` threads at once; returns each answer's status."""

    def place(order: Order) -> int:
        status, _, _ = runtime.api("POST", "/orders", order.body(), order.headers())
        return status

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="customer") as pool:
        return list(pool.map(place, orders))


def place_in_flight(
    runtime: LocalRuntime, orders: Sequence[Order], window: int, workers: int
) -> list[int]:
    """Place the orders so that about ``window`` sagas run at any time: all of them at once
    would queue each step behind hundreds of others in this one process, past its timeout
    (on AWS each invocation has a CPU of its own)."""
    accepted: list[int] = []
    ours: set[str] = set()
    while len(accepted) < len(orders):
        room = window - len(ours & running(runtime))
        if room < window // 4:
            time.sleep(0.5)
            continue
        chunk = orders[len(accepted) : len(accepted) + room]
        accepted += place_at_once(runtime, chunk, workers)
        ours.update(order.order_id for order in chunk)
    return accepted


def running(runtime: LocalRuntime) -> set[str]:
    """Names (order ids) of the executions still running."""
    return runtime.running()


def wait_for_all(runtime: LocalRuntime, order_ids: Sequence[str], timeout: float = 540.0) -> None:
    """Until none of the orders' sagas runs. Polls twice a second: waiting on each
    execution in turn would take the interpreter's time from the sagas themselves."""
    deadline = time.monotonic() + timeout
    wanted = set(order_ids)
    while wanted & running(runtime):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(wanted & running(runtime))} sagas still run after {timeout}s")
        time.sleep(0.5)


def outcomes(
    runtime: LocalRuntime, orders: Sequence[Order], accepted: Sequence[int]
) -> list[Outcome]:
    """Once every accepted order's saga has ended, each order as its events tell it."""
    assert runtime.ports is not None
    wait_for_all(
        runtime, [o.order_id for o, status in zip(orders, accepted, strict=True) if status == 202]
    )
    found = []
    for order, status in zip(orders, accepted, strict=True):
        if status != 202:
            found.append(Outcome(order.order_id, status, "NOT_PLACED", None, False))
            continue
        view = order_view(runtime.ports.store, order.order_id)
        found.append(
            Outcome(
                order.order_id,
                status,
                view["status"],
                view["cancellation_reason"],
                view["manual_review"] is not None,
            )
        )
    return found


def invariants(runtime: LocalRuntime) -> InvariantReport:
    assert runtime.ports is not None
    gateway: SimulatedPaymentGateway = runtime.ports.gateway  # type: ignore[assignment]
    return check_store(runtime.ports.store, gateway_ledger(gateway))


def counts(counter: Counter[str]) -> str:
    return ", ".join(f"{key} {n}" for key, n in sorted(counter.items())) or "none"
