"""Reliability, bounded for `make test` (the full run is `make reliability`): orders rushing
one product, two writers racing on one order, and a seeded random fault schedule over
every step; after each, the store-wide invariants (the autouse check in conftest.py, and
here explicitly where the test needs the numbers)."""

from __future__ import annotations

import dataclasses
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from local_runtime.emulator.clock import set_time_scale, time_scale
from local_runtime.emulator.faults import Fault
from local_runtime.patches.dynamodb_latency import set_latency
from local_runtime.tools import reliability
from order_saga import bootstrap
from order_saga.adapters.event_store import EventStore
from order_saga.domain.commands import RequestCancellation
from order_saga.service_layer.ids import order_id_for
from order_saga.service_layer.orders import request_cancellation
from order_saga.service_layer.repository import order_stream
from order_saga.service_layer.views import order_view
from tests.e2e.conftest import ADDRESS

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from order_saga.adapters.event_store import (
        RecordedEvent,
        Snapshot,
        StockChange,
        StreamAppend,
    )
    from tests.e2e.conftest import Client, Shop

HAPPY_PATH = ["ProcessPayment", "ReserveInventory", "ConfirmOrder"]
COMPENSATION = ["RefundPayment", "ReleaseInventory", "CancelOrder", "OrderCancelled"]


class InjectedFault(Exception):
    """Not a name the ASL knows."""


@pytest.fixture
def bulk(shop: Shop) -> Iterator[None]:
    """This test writes hundreds of events: the stream consumers' tests sharing the runtime
    need not deliver them (local_runtime.emulator.stream_driver.StreamDriver.skip_pending)."""
    yield
    assert shop.runtime.streams is not None
    shop.runtime.streams.skip_pending()


@pytest.fixture
def deployed_time() -> Iterator[None]:
    """Retry waits and task timeouts as deployed while dozens of sagas share this process:
    a tenth of a 15 s task timeout is shorter than a step waits for its turn here."""
    before = time_scale()
    set_time_scale(1.0)
    try:
        yield
    finally:
        set_time_scale(before)


# -- contention ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("deployed_time", "bulk")
def test_orders_rushing_one_product_never_oversell_and_each_gets_stock_or_is_refused_for_it(
    shop: Shop,
) -> None:
    result = reliability.contention_run(shop.runtime, orders=40, units=10, seed=40)

    assert [o.accepted for o in result.outcomes] == [202] * 40
    assert result.sold + result.available == 10
    assert result.available >= 0
    assert {(o.status, o.reason) for o in result.outcomes} <= {
        ("CONFIRMED", None),
        ("CANCELLED", "OutOfStock"),
    }
    assert result.statuses["CONFIRMED"] >= 1
    # stock never stranded: whatever is left is less than any refused order wanted
    assert result.smallest_refused is not None
    assert result.available < result.smallest_refused


@pytest.fixture
def dynamodb_latency() -> Iterator[float]:
    """DynamoDB's latency modelled (local_runtime/patches/dynamodb_latency.py): requests
    overlap, and a transaction on an item another is committing is cancelled."""
    set_latency(0.05)
    try:
        yield 0.05
    finally:
        set_latency(0.0)


@pytest.mark.usefixtures("deployed_time", "bulk", "dynamodb_latency")
def test_with_dynamodb_latency_a_rush_on_one_product_cancels_no_order_for_contention(
    shop: Shop,
) -> None:
    result = reliability.contention_run(shop.runtime, orders=48, units=30, seed=41, workers=48)

    assert result.sold + result.available == 30
    assert result.available >= 0
    assert {(o.status, o.reason) for o in result.outcomes} <= {
        ("CONFIRMED", None),
        ("CANCELLED", "OutOfStock"),
    }
    assert result.smallest_refused is None or result.available < result.smallest_refused


# -- two writers on one order -------------------------------------------------------------------


class RaceOnLoad(EventStore):
    """The runtime's store, with one race staged: the first time ``stream`` is loaded after
    ``arm``, ``meanwhile`` runs (another writer) before the loader gets its now stale copy."""

    def __init__(self, inner: EventStore) -> None:
        super().__init__()
        self.inner = inner
        self._armed: tuple[str, Callable[[], None]] | None = None
        self._lock = threading.Lock()
        self.raced = threading.Event()

    def arm(self, stream: str, meanwhile: Callable[[], None]) -> None:
        with self._lock:
            self._armed = (stream, meanwhile)

    def load(self, stream_id: str, after_version: int = 0) -> list[RecordedEvent]:
        records = self.inner.load(stream_id, after_version)
        with self._lock:
            staged = self._armed if self._armed and self._armed[0] == stream_id else None
            if staged:
                self._armed = None
        if staged:
            staged[1]()
            self.raced.set()
        return records

    def append_streams(
        self,
        appends: Sequence[StreamAppend],
        *,
        correlation_id: str,
        stock: Sequence[StockChange] = (),
    ) -> list[RecordedEvent]:
        return self.inner.append_streams(appends, correlation_id=correlation_id, stock=stock)

    def stock_levels(self, product_ids: Iterable[str]) -> dict[str, int]:
        return self.inner.stock_levels(product_ids)

    def stream_ids(self, prefix: str = "") -> list[str]:
        return self.inner.stream_ids(prefix)

    def load_snapshot(self, stream_id: str) -> Snapshot | None:
        return self.inner.load_snapshot(stream_id)

    def save_snapshot(self, snapshot: Snapshot) -> bool:
        return self.inner.save_snapshot(snapshot)

    def _write(self, records: list[RecordedEvent], stock: Sequence[StockChange] = ()) -> None:
        raise AssertionError("writes go to the inner store")


@pytest.fixture
def racing(shop: Shop) -> Iterator[RaceOnLoad]:
    wired = bootstrap.ports()
    store = RaceOnLoad(wired.store)
    bootstrap.use(dataclasses.replace(wired, store=store))
    try:
        yield store
    finally:
        bootstrap.use(wired)


def wait_for(shop: Shop, order_id: str, status: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while order_view(shop.ports.store, order_id)["status"] != status:
        assert time.monotonic() < deadline, f"{order_id} never reached {status}"
        time.sleep(0.02)


_keys: dict[str, str] = {}
"""Order id -> the Idempotency-Key the server derives it from."""


def new_order_id(customer: str | None) -> str:
    """The id the server will give the order ``customer`` places next (place() sends its key)."""
    key = f"race-{uuid.uuid4().hex[:12]}"
    order_id = order_id_for(customer or "", key)
    _keys[order_id] = key
    return order_id


def place(client: Client, product: str, order_id: str, quantity: int = 1) -> None:
    response = client.post(
        "/orders",
        {
            "items": [{"product_id": product, "quantity": quantity}],
            "shipping_address": ADDRESS,
            "payment_method": "tok_visa",
        },
        headers={"Idempotency-Key": _keys[order_id]},
    )
    assert response.status_code == 202, response.text


def test_a_cancel_that_loses_the_write_to_confirmation_gets_409_and_the_order_stays_paid(
    shop: Shop, client: Client, racing: RaceOnLoad
) -> None:
    product, order_id = shop.product("14.00", 5), new_order_id(client.customer)
    release = shop.runtime.functions.hold(
        "ConfirmOrderFunction", when=lambda p: p.get("order_id") == order_id
    )
    place(client, product, order_id, 2)
    wait_for(shop, order_id, "INVENTORY_RESERVED")

    def confirmation_lands() -> None:  # between the cancel's load and its write
        release.set()
        wait_for(shop, order_id, "CONFIRMED")

    racing.arm(order_stream(order_id), confirmation_lands)
    response = client.post(f"/orders/{order_id}/cancel", {"reason": "too slow"})

    assert racing.raced.is_set()
    assert (response.status_code, response.json()["error"]) == (409, "InvalidTransition")
    execution = shop.runtime.wait(order_id)
    assert execution.path == HAPPY_PATH
    history = [e["type"] for e in client.get(f"/orders/{order_id}/events").json()["events"]]
    assert "CancellationRequested" not in history
    assert history[-1] == "OrderConfirmed"
    assert shop.gateway.net_charged_for(order_id) == Decimal("28.00")
    assert shop.stock(product) == 3


def test_a_step_that_loses_the_write_to_a_cancel_compensates_and_nothing_is_lost(
    shop: Shop, client: Client, racing: RaceOnLoad
) -> None:
    product, order_id = shop.product("9.00", 4), new_order_id(client.customer)
    release = shop.runtime.functions.hold(
        "ReserveInventoryFunction", when=lambda p: p.get("order_id") == order_id
    )
    place(client, product, order_id, 3)
    wait_for(shop, order_id, "PAYMENT_COMPLETED")

    def customer_cancels() -> None:  # between the reservation's load and its write
        customer = RequestCancellation(order_id=order_id, requested_by=str(client.customer))
        request_cancellation(customer, shop.ports)  # the runtime's own store, not the racing one

    racing.arm(order_stream(order_id), customer_cancels)
    release.set()
    execution = shop.runtime.wait(order_id)

    assert racing.raced.is_set()
    assert execution.path == ["ProcessPayment", "ReserveInventory", *COMPENSATION]
    order = order_view(shop.ports.store, order_id)
    assert order["status"] == "CANCELLED"
    assert order["cancellation_reason"] == "OrderCancellationRequested"
    history = [e["type"] for e in client.get(f"/orders/{order_id}/events").json()["events"]]
    assert history.count("CancellationRequested") == 1
    assert "InventoryReserved" not in history
    assert shop.gateway.net_charged_for(order_id) == Decimal("0.00")
    assert shop.stock(product) == 4


@pytest.mark.usefixtures("deployed_time", "bulk")
def test_customers_cancelling_at_random_moments_either_win_or_get_409_and_nothing_is_lost(
    shop: Shop, client: Client
) -> None:
    rng = random.Random(20261128)
    product = shop.product("5.00", 40)
    order_ids = [new_order_id(client.customer) for _ in range(10)]
    delays = [rng.uniform(0, 0.6) for _ in order_ids]

    def place_then_cancel(order_id: str, delay: float) -> int:
        place(client, product, order_id)
        time.sleep(delay)
        return client.post(f"/orders/{order_id}/cancel").status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(place_then_cancel, order_ids, delays))
    finals, paths = [], []
    for order_id in order_ids:
        execution = shop.runtime.wait(order_id)
        paths.append((execution.status, execution.error, execution.path))
        finals.append(order_view(shop.ports.store, order_id))

    for answer, final, path in zip(answers, finals, paths, strict=True):
        # 202: the request landed first; 200: cancelled already; 409: confirmed first
        expected = {202: "CANCELLED", 200: "CANCELLED", 409: "CONFIRMED"}[answer]
        assert final["status"] == expected, (answer, path, final)
        kept = Decimal("5.00") if expected == "CONFIRMED" else Decimal("0.00")
        assert shop.gateway.net_charged_for(final["order_id"]) == kept
    confirmed = sum(final["status"] == "CONFIRMED" for final in finals)
    assert shop.stock(product) == 40 - confirmed


# -- faults at every step -----------------------------------------------------------------------


def test_a_fault_aimed_at_one_order_leaves_every_other_order_alone(shop: Shop) -> None:
    product = shop.product("3.00", 10)
    target = new_order_id(shop.customer)
    shop.runtime.functions.inject(
        "ConfirmOrderFunction", Fault.transient(InjectedFault("only this one"), order_id=target)
    )

    others = [shop.run([(product, 1)])[0] for _ in range(2)]
    status, body, _ = shop.runtime.api(
        "POST",
        "/orders",
        {
            "items": [{"product_id": product, "quantity": 1}],
            "shipping_address": ADDRESS,
            "payment_method": "tok_visa",
        },
        {"X-Customer-Id": shop.customer, "Idempotency-Key": _keys[target]},
    )
    targeted = shop.runtime.wait(target)

    assert status == 202, body
    assert [e.path for e in others] == [HAPPY_PATH, HAPPY_PATH]
    assert targeted.path == [*HAPPY_PATH, *COMPENSATION]
    assert targeted.error == "InjectedFault"


def test_a_throttled_step_is_retried_as_lambda_too_many_requests_and_confirms(
    shop: Shop, client: Client
) -> None:
    product, order_id = shop.product("3.00", 10), new_order_id(client.customer)
    shop.runtime.functions.inject(
        "ConfirmOrderFunction", Fault.throttled(times=2, order_id=order_id)
    )

    place(client, product, order_id)
    execution = shop.runtime.wait(order_id)

    errors = [
        event["lambdaFunctionFailedEventDetails"]["error"]
        for event in shop.runtime.history(execution.arn)
        if event["type"] == "LambdaFunctionFailed"
    ]
    assert execution.status == "SUCCEEDED"
    assert execution.path == HAPPY_PATH
    assert errors.count("Lambda.TooManyRequestsException") == 2
    assert order_view(shop.ports.store, order_id)["status"] == "CONFIRMED"


@pytest.mark.usefixtures("deployed_time", "bulk")
def test_a_random_fault_at_every_step_keeps_the_invariants_and_redrive_ends_every_order(
    shop: Shop,
) -> None:
    result = reliability.fault_run(
        shop.runtime, orders=30, seed=30, step_rate=0.25, compensation_rate=0.4, window=30
    )
    run = reliability.Run()
    reliability.judge_faults(result, run)

    assert [c.name for c in run.checks if not c.passed] == []
    assert result.before.violations == []
    assert result.after.violations == []
    assert set(result.fired) >= {"crash_before_write", "crash_after_write", "delivered_twice"}
    assert {o.status for o in result.outcomes_after} <= {"CONFIRMED", "CANCELLED"}
    assert result.redriven == len(result.before.manual_review)


def test_the_fault_schedule_is_the_same_for_the_same_seed() -> None:
    def drawn(seed: int) -> list[Any]:
        rng = random.Random(seed)
        return [
            [(function, fault.label, fault.times) for function, fault in faults]
            for faults in (reliability.fault_schedule(rng, f"o{n}", 0.3, 0.3) for n in range(50))
        ]

    assert drawn(7) == drawn(7)
    assert drawn(7) != drawn(8)
