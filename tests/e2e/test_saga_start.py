"""No order is ever stuck: the saga starts from the event store's stream, and the
reconciler starts what the stream did not, on the real template and handlers. Each case
of `make reliability`'s start faults, bounded: StartExecution throttled in a burst, the
API dying between its write and its start, the relay record delivered twice, the relay
failing for a while, the reconciler racing a slow start; and an Express saga started
twice ending in one outcome."""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from local_runtime.emulator.faults import FOREVER, Fault
from local_runtime.patches import start_rate
from local_runtime.sample_catalog import ADDRESS
from local_runtime.tools.reliability.checks import Run
from local_runtime.tools.reliability.start_faults import (
    FAULTS,
    judge_start_faults,
    start_fault_run,
)
from order_saga.errors import StorageError
from order_saga.service_layer.ids import order_id_for
from order_saga.service_layer.views import order_events, order_view

if TYPE_CHECKING:
    from collections.abc import Iterator

    from local_runtime.runtime import LocalRuntime
    from tests.e2e.conftest import Shop

WORKFLOW_TYPES = ("STANDARD", "EXPRESS")
HAPPY_PATH = ["ProcessPayment", "ReserveInventory", "ConfirmOrder"]
RELAY = "SagaStarterFunction"


@pytest.fixture(autouse=True)
def quiet_streams(runtime: LocalRuntime) -> Iterator[None]:
    """What other tests appended is not this test's to relay (an EXPRESS relay would
    start a second execution of each of their orders)."""
    assert runtime.streams is not None
    runtime.streams.skip_pending()
    yield
    start_rate.configure()
    runtime.functions.clear_faults()


def place(shop: Shop, product: str, key: str | None = None) -> tuple[int, Any, str]:
    key = key or uuid.uuid4().hex
    status, body, _ = shop.runtime.api(
        "POST",
        "/orders",
        {
            "items": [{"product_id": product, "quantity": 1}],
            "shipping_address": ADDRESS,
            "payment_method": "tok_visa",
        },
        {"X-Customer-Id": shop.customer, "Idempotency-Key": key},
    )
    return status, body, order_id_for(shop.customer, key)


def executions_of(runtime: LocalRuntime, order_id: str) -> list[dict[str, Any]]:
    return [e for e in runtime.executions() if e["name"].startswith(order_id)]


def one_outcome(shop: Shop, order_id: str) -> bool:
    types = [e["type"] for e in order_events(shop.ports.store, order_id)]
    ends = types.count("OrderConfirmed") + types.count("OrderCancelled")
    return ends == 1 and types.count("PaymentCompleted") <= 1


def confirmed_once(shop: Shop, order_id: str) -> bool:
    types = [e["type"] for e in order_events(shop.ports.store, order_id)]
    return (
        order_view(shop.ports.store, order_id)["status"] == "CONFIRMED"
        and types.count("OrderConfirmed") == 1
        and types.count("PaymentCompleted") == 1
    )


def test_an_order_whose_api_died_before_the_start_is_started_from_the_stream(
    shop: Shop, runtime: LocalRuntime
) -> None:
    product, key = shop.product("3.00", 5), uuid.uuid4().hex
    runtime.functions.inject("ApiFunction", Fault.exit_before_start())

    with pytest.raises(RuntimeError, match=r"Runtime\.ExitError"):
        place(shop, product, key)
    order_id = order_id_for(shop.customer, key)
    waiting = order_view(shop.ports.store, order_id)
    retried = place(shop, product, key)  # the client's retry: the same answer, no 409
    relayed = runtime.drain_streams()
    execution = runtime.wait(order_id)

    assert waiting["status"] == "PENDING" and waiting["waiting_for_saga"]
    assert retried[0] == 202 and retried[1]["order_id"] == order_id
    assert relayed >= 1
    assert execution.path == HAPPY_PATH
    assert confirmed_once(shop, order_id)
    assert not order_view(shop.ports.store, order_id)["waiting_for_saga"]


def test_start_execution_throttled_in_a_burst_every_order_is_accepted_and_ends_once(
    shop: Shop, runtime: LocalRuntime
) -> None:
    product = shop.product("2.00", 20)
    start_rate.configure(burst=2, refill_per_second=0.0)  # two starts, then none

    placed = [place(shop, product) for _ in range(5)]
    throttled = start_rate.throttled()
    waiting = [o for _, _, o in placed if order_view(shop.ports.store, o)["waiting_for_saga"]]
    start_rate.configure()  # the rate refills
    runtime.drain_streams()
    ends = {order_id: runtime.wait(order_id).status for _, _, order_id in placed}

    assert [status for status, _, _ in placed] == [202] * 5  # 202 even when the start failed
    assert throttled >= 3 and len(waiting) == 3
    # Each ends once (a loaded machine may time a step out at this time scale: compensated).
    assert set(ends.values()) <= {"SUCCEEDED", "FAILED"}
    assert all(one_outcome(shop, order_id) for order_id in ends)


def test_a_relay_record_delivered_twice_starts_one_saga(
    shop: Shop, runtime: LocalRuntime, workflow_type: str
) -> None:
    product, key = shop.product("4.00", 5), uuid.uuid4().hex
    runtime.functions.inject("ApiFunction", Fault.exit_before_start())
    with pytest.raises(RuntimeError):
        place(shop, product, key)
    order_id = order_id_for(shop.customer, key)
    runtime.functions.inject(RELAY, Fault.twice())

    runtime.drain_streams()
    runtime.wait(order_id)

    assert len(executions_of(runtime, order_id)) == 1  # the second delivery was settled
    assert confirmed_once(shop, order_id)


def test_a_relay_failing_for_a_while_leaves_the_order_to_the_reconciler(
    shop: Shop, runtime: LocalRuntime
) -> None:
    product, key = shop.product("5.00", 5), uuid.uuid4().hex
    runtime.functions.inject("ApiFunction", Fault.exit_before_start())
    with pytest.raises(RuntimeError):
        place(shop, product, key)
    order_id = order_id_for(shop.customer, key)
    queue = runtime.queue_url("SagaStarterFailureQueue")
    runtime.functions.inject(RELAY, Fault(error=StorageError("relay down"), times=FOREVER))

    runtime.drain_streams()  # every retry fails: the batch's coordinates go to its queue
    runtime.functions.clear_faults()
    gave_up = boto3.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
    waiting = order_view(shop.ports.store, order_id)["waiting_for_saga"]
    reconciled = runtime.reconcile(after_seconds=0)
    runtime.wait(order_id)

    notices = [json.loads(m["Body"]) for m in gave_up.get("Messages", [])]
    assert any(n["requestContext"]["condition"] == "RetryAttemptsExhausted" for n in notices)
    assert waiting and order_id in reconciled["started"]
    assert len(executions_of(runtime, order_id)) == 1
    assert confirmed_once(shop, order_id)


def test_the_reconciler_racing_a_slow_start_never_starts_a_second_execution(
    shop: Shop, runtime: LocalRuntime, workflow_type: str
) -> None:
    product = shop.product("6.00", 5)
    key = uuid.uuid4().hex
    order_id = order_id_for(shop.customer, key)
    release = runtime.functions.hold(
        "ProcessPaymentFunction", when=lambda payload: payload.get("order_id") == order_id
    )
    try:
        status, _, _ = place(shop, product, key)  # started; its first step not yet run
        reconciled = runtime.reconcile(after_seconds=0)
    finally:
        release.set()
    runtime.wait(order_id)

    assert status == 202
    if workflow_type == "STANDARD":
        # DescribeExecution says RUNNING: left alone.
        assert order_id not in reconciled["started"] + reconciled["redriven"]
        assert len(executions_of(runtime, order_id)) == 1
    else:
        # Step Functions keeps no record of an Express execution: an order still at its
        # creation is started again, and the saga's idempotent steps make one outcome.
        assert order_id in reconciled["started"]
    assert confirmed_once(shop, order_id)


def test_a_saga_started_twice_ends_in_one_outcome(
    shop: Shop, runtime: LocalRuntime, workflow_type: str
) -> None:
    product = shop.product("7.00", 5)

    status, body, order_id = place(shop, product)  # the API's fast start
    runtime.drain_streams()  # then the relay's start of the same order
    started = executions_of(runtime, order_id)
    ends = [all_ended(runtime, execution["executionArn"]) for execution in started]

    assert status == 202 and body["order_id"] == order_id
    # STANDARD: the same name is the same execution. EXPRESS: a second, concurrent one.
    assert len(started) == (2 if workflow_type == "EXPRESS" else 1)
    assert set(ends) == {"SUCCEEDED"}
    assert confirmed_once(shop, order_id)
    assert shop.stock(product) == 4
    assert shop.gateway.net_charged_for(order_id) == 7


def all_ended(runtime: LocalRuntime, arn: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while (status := runtime.describe(arn)["status"]) == "RUNNING":
        assert time.monotonic() < deadline, f"{arn} still runs"
        time.sleep(0.1)
    return str(status)


def test_make_reliability_s_start_faults_bounded_leave_no_order_stuck_and_one_outcome_each(
    runtime: LocalRuntime,
) -> None:
    result = start_fault_run(runtime, per_fault=2)
    run = Run()
    judge_start_faults(result, run)

    assert [c.name for c in run.checks if not c.passed] == []
    assert [g.fault for g in result.groups] == list(FAULTS)
    # Each order ended (a held saga may time a step out at this time scale: compensated).
    assert {fault: sum(ends.values()) for fault, ends in result.ends.items()} == dict.fromkeys(
        FAULTS, 2
    )
    assert all(set(ends) <= {"CONFIRMED", "CANCELLED"} for ends in result.ends.values())
    assert result.throttled > 0  # the burst did go past the start rate
    assert result.report.violations == []
    # Each path that has to start an order did: the API's fast path, the relay, the
    # reconciler (the relay's batches it gave up on).
    assert {path for _, path in result.latency} >= {"api", "relay", "reconciler"}
    assert any("saga start" in line for line in result.lines())
