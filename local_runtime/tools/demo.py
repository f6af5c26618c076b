"""`make demo`: sample orders through the real state machine, on the local runtime.

One succeeds, one has its payment declined, one runs out of stock, and a fourth runs
out of stock while the payment gateway refuses the refund three times: the saga puts
it on the manual-review queue and ops.redrive finishes it. For each it prints
the final status, total, payment and reservation ids (or why it was cancelled), the
states the execution passed through, and the order's events. Exits 1 when an order
does not end as it should. It ends with the metrics the handlers emitted (EMF).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from local_runtime.console.inspection import events_view, notifications_view
from local_runtime.emulator.lambda_service import Fault
from local_runtime.runtime import LocalRuntime
from local_runtime.sample_catalog import ADDRESS, SAMPLE_PRODUCTS, seed
from order_saga.errors import GatewayUnavailable, OrderNotFound
from order_saga.service_layer.ids import order_id_for
from order_saga.service_layer.views import order_events, order_view, stock_level

if TYPE_CHECKING:
    from order_saga.service_layer.ports import Ports

CUSTOMER_ID = "cust-demo"
CUSTOMER = {"X-Customer-Id": CUSTOMER_ID}


@dataclass(frozen=True)
class Scenario:
    title: str
    key: str
    """The POST's Idempotency-Key: the server derives the order's id from it."""
    items: list[dict[str, Any]]
    payment_method: str
    expected_status: str
    expected_reason: str | None
    refund_outage: int = 0
    """The refund step fails this many times (Fault injection): 3 exhausts its retries."""

    @property
    def order_id(self) -> str:
        return order_id_for(CUSTOMER_ID, self.key)


def _refund_fails(runtime: LocalRuntime, times: int) -> None:
    runtime.functions.inject(
        "RefundPaymentFunction",
        Fault.transient(GatewayUnavailable("payment gateway down (demo fault)"), times=times),
    )


SCENARIOS = (
    Scenario(
        "succeeds",
        "ord-demo-success",
        [
            {"product_id": "sku-espresso-beans", "quantity": 2, "unit_price": "24.90"},
            {"product_id": "sku-pour-over-kettle", "quantity": 1},
        ],
        "tok_visa",
        "CONFIRMED",
        None,
    ),
    Scenario(
        "payment declined",
        "ord-demo-declined",
        [{"product_id": "sku-espresso-beans", "quantity": 1}],
        "tok_chargeDeclined",
        "CANCELLED",
        "PaymentDeclined",
    ),
    Scenario(
        "out of stock",
        "ord-demo-out-of-stock",
        [
            {"product_id": "sku-pour-over-kettle", "quantity": 1},
            {"product_id": "sku-burr-grinder", "quantity": 5},
        ],
        "tok_visa",
        "CANCELLED",
        "OutOfStock",
    ),
    Scenario(
        "out of stock, and the refund keeps failing: manual review, then re-drive",
        "ord-demo-manual-review",
        [
            {"product_id": "sku-espresso-beans", "quantity": 1},
            {"product_id": "sku-burr-grinder", "quantity": 5},
        ],
        "tok_visa",
        "CANCELLED",
        "OutOfStock",
        refund_outage=3,
    ),
)


def describe(event: dict[str, Any]) -> str:
    data = event["data"]
    shown = {
        "OrderCreated": lambda: f"total {data['total']}, {len(data['items'])} item(s)",
        "PaymentProcessing": lambda: f"amount {data['amount']}",
        "PaymentCompleted": lambda: f"{data['payment_id']}, charged {data['amount']}",
        "PaymentFailed": lambda: data["reason"],
        "PaymentRefunded": lambda: f"{data['refund_id']}, refunded {data['amount']}",
        "InventoryReserved": lambda: _lines(data["lines"]),
        "InventoryReleased": lambda: _lines(data["lines"]),
        "InventoryReservationFailed": lambda: ", ".join(
            f"{s['product_id']}: {s['requested']} wanted, {s['available']} left"
            for s in data["shortages"]
        ),
        "OrderCancelled": lambda: data["reason"],
        "CompensationFailed": lambda: f"{data['failed_step']}: {data['error']}",
    }.get(event["type"])
    return f"{event['type']:<27} {shown() if shown else ''}".rstrip()


def _lines(lines: list[dict[str, Any]]) -> str:
    return ", ".join(f"{line['quantity']} x {line['product_id']}" for line in lines)


def print_stock(ports: Ports, heading: str) -> None:
    levels = ", ".join(f"{pid} {stock_level(ports.store, pid)}" for pid, *_ in SAMPLE_PRODUCTS)
    print(f"{heading:<16}{levels}")


def print_stream_consumers(runtime: LocalRuntime) -> bool:
    """Run the event store stream's consumers, then show per order what its customer was
    told and what went on the event bus. False when an order event was not published
    exactly once or an order told its customer nothing."""
    assert runtime.ports is not None
    runtime.drain_streams()
    print(
        "Stream consumers: the event store's stream -> NotificationsFunction, "
        "PublisherFunction, ViewsFunction, SagaStarterFunction"
    )
    ok = True
    for number, scenario in enumerate(SCENARIOS, start=1):
        print(f"[{number}] {scenario.order_id}")
        notifications = notifications_view(runtime, scenario.order_id)
        for index, sent in enumerate(notifications):
            label = "notified" if index == 0 else ""
            print(
                f"    {label:<14} {sent['version']:>2} {sent['event_type']:<16} {sent['subject']}"
            )
            print(f"    {'':<14}    {sent['message']}")
        published = events_view(runtime, scenario.order_id)
        types = Counter(event["detail-type"] for event in published)
        shown = ", ".join(f"{t} x{n}" if n > 1 else t for t, n in types.items())
        print(f"    {'published':<14} {len(published)} events on the bus: {shown}")
        keys = [(e["detail"]["stream_id"], e["detail"]["version"]) for e in published]
        try:
            stored = order_events(runtime.ports.store, scenario.order_id)
        except OrderNotFound:
            stored = []  # its POST failed, as reported above
        own = {(e["stream_id"], e["version"]) for e in stored}
        ok &= bool(stored and notifications) and len(keys) == len(set(keys)) and own <= set(keys)
    print()
    return ok


def run(runtime: LocalRuntime) -> bool:
    assert runtime.ports is not None
    seed(runtime.ports)
    print("Catalog")
    for product_id, name, price, quantity in SAMPLE_PRODUCTS:
        print(f"  {product_id:<22} {name:<22} {price:>8}  {quantity:>3} in stock")
    print()
    all_as_expected = True
    for number, scenario in enumerate(SCENARIOS, start=1):
        all_as_expected &= run_scenario(runtime, number, scenario)
        print()
    all_as_expected &= print_stream_consumers(runtime)
    print_stock(runtime.ports, "Stock after")
    invocations = ", ".join(f"{k} {v}" for k, v in sorted(runtime.functions.invocations.items()))
    print(f"{'Invocations':<16}{invocations}")
    if runtime.metrics is not None:
        print(f"{'Metrics (EMF)':<16}{runtime.metrics.summary()}")
    return all_as_expected


def run_scenario(runtime: LocalRuntime, number: int, scenario: Scenario) -> bool:
    assert runtime.ports is not None
    store = runtime.ports.store
    if scenario.refund_outage:
        _refund_fails(runtime, scenario.refund_outage)
    status, body, _ = runtime.api(
        "POST",
        "/orders",
        {
            "items": scenario.items,
            "shipping_address": ADDRESS,
            "payment_method": scenario.payment_method,
        },
        {**CUSTOMER, "Idempotency-Key": scenario.key},
    )
    print(f"[{number}] {scenario.title}: order {scenario.order_id} ({scenario.payment_method})")
    if status != 202:
        print(f"    POST /orders answered {status} {body}")
        return False
    execution = runtime.wait(scenario.order_id)
    print(
        f"    execution      {execution.status}"
        + (f" ({execution.error})" if execution.error else "")
    )
    print(f"    path           {' -> '.join(execution.path)}")
    print(
        f"                   {execution.state_transitions} state transitions, "
        f"{execution.lambda_invocations} Lambda invocations, {execution.duration_ms:.0f} ms"
    )
    view = order_view(store, scenario.order_id)
    if view["manual_review"]:
        review = view["manual_review"]
        print(
            f"    manual review  {view['status']}, {review['failed_step']} gave up "
            f"({review['error']}: {review['cause']})"
        )
        for outcome in runtime.redrive():
            print(f"    re-drive       {outcome.order_id}: {'; '.join(outcome.steps)}")
        view = order_view(store, scenario.order_id)
    as_expected = (
        view["status"] == scenario.expected_status
        and view["cancellation_reason"] == scenario.expected_reason
    )
    print(f"    status         {view['status']}" + ("" if as_expected else "   <- NOT AS EXPECTED"))
    print(f"    total          {view['total']}")
    print(f"    payment id     {view['payment_id'] or '-'} ({view['payment_status']})")
    if view["refund_id"]:
        print(f"    refund id      {view['refund_id']}")
    if view["status"] == "CANCELLED":
        print(f"    cancelled      {view['cancellation_reason']}: {view['cancellation_detail']}")
    else:
        print(f"    reservation id {view['reservation_id']}")
    for index, event in enumerate(order_events(store, scenario.order_id)):
        label = "events" if index == 0 else ""
        print(f"    {label:<14} {event['version']:>2} {describe(event)}")
    return as_expected


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        prog="python -m local_runtime demo", description=__doc__.splitlines()[0]
    ).parse_args(argv)
    started = time.perf_counter()
    print("Order saga demo: statemachine/order_saga.asl.json and the handlers in functions/,")
    print("run by moto's Step Functions interpreter and DynamoDB (no AWS account, no Docker).")
    print()
    with LocalRuntime() as runtime:
        ok = run(runtime)
    print(f"{'Wall time':<16}{time.perf_counter() - started:.2f} s")
    if not ok:
        print("Some orders did not end as expected.", file=sys.stderr)
    return 0 if ok else 1
