"""The metrics tap: EMF lines kept as metrics, every other line passed on unchanged; and
what the step handlers emit, read through it."""

from __future__ import annotations

import io
import json
import re
import sys
import threading
import uuid
import warnings
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from local_runtime.emulator.metrics_tap import MetricsTap
from order_saga import bootstrap
from order_saga.domain.commands import CancelOrder, ProcessPayment
from order_saga.entrypoints.step import step_handler
from order_saga.errors import PaymentDeclined
from order_saga.service_layer import orders, payments
from order_saga.service_layer.dependencies import PaymentDependencies, StepDependencies

if TYPE_CHECKING:
    from collections.abc import Callable

    from order_saga.service_layer.ports import Ports

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINTS = "layers/shared/order_saga/entrypoints"
SUMMARY_COUNTS = (
    "OrdersCreated",
    "OrdersConfirmed",
    "OrdersCancelled",
    "PaymentFailures",
    "InventoryFailures",
    "CompensationsFailed",
)


def emf(**metrics: tuple[str, float | list[float]]) -> str:
    """One EMF document as Powertools prints it: name=(unit, value or values)."""
    document: dict[str, Any] = {
        "_aws": {
            "Timestamp": 1_700_000_000_000,
            "CloudWatchMetrics": [
                {
                    "Namespace": "OrderSaga",
                    "Dimensions": [["service"]],
                    "Metrics": [
                        {"Name": name, "Unit": unit} for name, (unit, _) in metrics.items()
                    ],
                }
            ],
        },
        "service": "order-saga",
    }
    document.update({name: value for name, (_, value) in metrics.items()})
    return json.dumps(document, separators=(",", ":"))


def log_line(message: str) -> str:
    """A Powertools log line: JSON too, but no metric."""
    return json.dumps({"level": "INFO", "message": message, "service": "order-saga"})


@pytest.fixture
def downstream() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def tap(downstream: io.StringIO) -> MetricsTap:
    return MetricsTap(downstream)


# -- capturing and passing on ------------------------------------------------------------


def test_an_emf_line_is_captured_and_not_passed_on(tap, downstream):
    line = emf(OrdersCreated=("Count", 1))

    written = tap.write(line + "\n")

    assert written == len(line) + 1
    assert tap.documents == [json.loads(line)]
    assert downstream.getvalue() == ""


def test_every_other_line_is_passed_on_unchanged(tap, downstream):
    lines = [log_line("step done"), "plain text", "", '{"_awsome": true}', '  {"_aws": 1}']

    for line in lines:
        tap.write(line + "\n")

    assert downstream.getvalue() == "".join(line + "\n" for line in lines)
    assert tap.documents == []


def test_emf_and_other_lines_in_one_write_are_told_apart(tap, downstream):
    metric = emf(OrdersConfirmed=("Count", 1))

    tap.write(f"{log_line('before')}\n{metric}\n{log_line('after')}\n")

    assert tap.documents == [json.loads(metric)]
    assert downstream.getvalue() == f"{log_line('before')}\n{log_line('after')}\n"


def test_a_line_is_held_back_until_its_newline_arrives(tap, downstream):
    tap.write("half a ")

    assert downstream.getvalue() == ""
    tap.write("line\n")
    assert downstream.getvalue() == "half a line\n"


def test_a_metric_line_split_across_several_writes_is_reassembled(tap, downstream):
    line = emf(OrderDuration=("Milliseconds", 1234.5))
    pieces = [line[:3], line[3:10], line[10:-4], line[-4:], "\n"]

    for piece in pieces:
        tap.write(piece)

    assert tap.values("OrderDuration") == [1234.5]
    assert downstream.getvalue() == ""


def test_lines_written_from_two_threads_at_once_are_reassembled_per_thread(tap, downstream):
    metric = emf(OrdersCancelled=("Count", 1))
    log = log_line("cancelled")
    turns = [threading.Event() for _ in range(5)]
    failures: list[BaseException] = []

    def taking_turns(*moves: tuple[int | None, str, int | None]) -> Callable[[], None]:
        """Each move waits for a turn, writes, then hands over the next turn."""

        def run() -> None:
            try:
                for wait_for, text, hand_over in moves:
                    if wait_for is not None and not turns[wait_for].wait(timeout=10):
                        raise TimeoutError(f"turn {wait_for} never came")
                    tap.write(text)
                    if hand_over is not None:
                        turns[hand_over].set()
            except BaseException as failure:
                failures.append(failure)
                for turn in turns:  # never leave the other thread waiting
                    turn.set()

        return run

    writers = [
        taking_turns((None, metric[:15], 0), (1, metric[15:], 2), (3, "\n", 4)),
        taking_turns((0, log[:10], 1), (2, log[10:] + "\n", 3)),
    ]
    threads = [threading.Thread(target=writer, daemon=True) for writer in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert failures == []
    assert tap.documents == [json.loads(metric)]
    assert downstream.getvalue() == log + "\n"


def test_install_stands_in_front_of_stdout_and_uninstall_puts_it_back(monkeypatch, downstream):
    monkeypatch.setattr(sys, "stdout", downstream)
    tap = MetricsTap(io.StringIO())

    tap.install()
    tap.install()  # twice: still one tap, still the same downstream
    print(emf(OrdersCreated=("Count", 2)))
    print("hello")
    tap.uninstall()
    print("after")

    assert sys.stdout is downstream
    assert tap.downstream is downstream
    assert tap.counts() == Counter({"OrdersCreated": 2})
    assert downstream.getvalue() == "hello\nafter\n"


def test_what_powertools_prints_is_read_as_metrics(tap, monkeypatch):
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.setattr(sys, "stdout", tap)
    metrics = EphemeralMetrics(namespace="OrderSaga", service="order-saga")
    metrics.add_metric(name="OrdersConfirmed", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="OrdersConfirmed", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="OrderDuration", unit=MetricUnit.Milliseconds, value=250)

    metrics.flush_metrics()

    assert tap.counts() == Counter({"OrdersConfirmed": 2})
    assert tap.values("OrderDuration") == [250.0]


# -- reading the metrics -----------------------------------------------------------------


def test_counts_sum_every_count_metric_by_name_and_leave_out_other_units(tap):
    for line in [
        emf(OrdersCreated=("Count", 1), OrderDuration=("Milliseconds", 900.0)),
        emf(OrdersCreated=("Count", [1, 1, 1])),
        emf(PaymentFailures=("Count", 2), OrdersCreated=("Count", 1)),
    ]:
        tap.write(line + "\n")

    assert tap.counts() == Counter({"OrdersCreated": 5, "PaymentFailures": 2})


def test_values_returns_every_value_of_one_metric_in_order(tap):
    for line in [
        emf(OrderDuration=("Milliseconds", 120.0)),
        emf(OrdersConfirmed=("Count", 1)),
        emf(OrderDuration=("Milliseconds", [80.5, 300.0]), OrdersCancelled=("Count", 1)),
    ]:
        tap.write(line + "\n")

    assert tap.values("OrderDuration") == [120.0, 80.5, 300.0]
    assert tap.values("OrdersCancelled") == [1]
    assert tap.values("NeverEmitted") == []


def test_the_summary_names_every_counted_metric_and_the_order_duration(tap):
    tap.write(emf(OrdersCreated=("Count", 3), OrdersConfirmed=("Count", 2)) + "\n")
    for duration in (100.0, 200.0, 600.0):
        tap.write(emf(OrderDuration=("Milliseconds", duration)) + "\n")

    summary = tap.summary()

    for name in SUMMARY_COUNTS:
        assert re.search(rf"\b{name} \d+\b", summary), f"{name} missing from {summary!r}"
    assert "OrdersCreated 3" in summary
    assert "OrdersConfirmed 2" in summary
    assert "OrdersCancelled 0" in summary
    assert "OrderDuration   3 orders: min 100 ms, median 200 ms, max 600 ms" in summary


def test_the_summary_names_every_metric_the_saga_emits():
    """Read from the code, so a new saga metric cannot go unreported by the demo. (The
    event store stream's consumers, entrypoints/stream.py, are not the saga.)"""
    sources = [*ROOT.glob("functions/*/app.py"), *ROOT.glob(f"{ENTRYPOINTS}/*.py")]
    source = "\n".join(path.read_text() for path in sources if path.name != "stream.py")
    emitted = set(re.findall(r'success_metric="(\w+)"', source))
    emitted |= set(re.findall(r'add_metric\(\s*name="(\w+)"', source))
    for mapping in re.findall(r"failure_metrics=\{([^}]*)\}", source):
        emitted |= set(re.findall(r'"(\w+)"', mapping))
    assert {"OrdersCreated", "OrdersConfirmed", "PaymentFailures", "OrderDuration"} <= emitted

    tap = MetricsTap(io.StringIO())
    tap.write(emf(OrderDuration=("Milliseconds", 5.0)) + "\n")
    summary = tap.summary()

    assert sorted(name for name in emitted if name not in summary) == []


# -- the step handlers' metrics, read through the tap ----------------------------------


class Context:
    """What Powertools reads from the Lambda context."""

    function_name = "OrderFunction"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:OrderFunction"
    memory_limit_in_mb = 256
    aws_request_id = str(uuid.uuid4())
    log_group_name = "/aws/lambda/OrderFunction"
    log_stream_name = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@pytest.fixture
def invoke(ports: Ports, tap: MetricsTap, monkeypatch) -> Callable[..., Any]:
    """Run a handler on the unit tests' in-memory ports with the tap in front of stdout."""
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.setattr(bootstrap, "_source", ports)  # restored afterwards, whoever set it

    def invoke(handler: Callable[..., Any], event: dict[str, Any]) -> Any:
        # Installed per call, as the local runtime does: pytest swaps stdout between the
        # fixture's setup and the test.
        tap.install()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "No application metrics to publish"
                return handler(event, Context())
        finally:
            tap.uninstall()

    return invoke


def test_a_step_counts_its_success_metric_only_when_it_changed_the_order(
    invoke, tap, placed, stocked
):
    cancel = step_handler(
        CancelOrder,
        orders.cancel_order,
        bootstrap.Wired(StepDependencies),
        success_metric="OrdersCancelled",
    )
    order_id = placed((stocked(), 1))
    event = {"order_id": order_id, "error": {"Error": "OutOfStock"}}

    first = invoke(cancel, event)
    again = invoke(cancel, event)

    assert (first["changed"], again["changed"]) == (True, False)
    assert tap.counts()["OrdersCancelled"] == 1
    assert len(tap.values("OrderDuration")) == 1
    assert tap.values("OrderDuration")[0] == pytest.approx(first["duration_ms"])


def test_a_step_counts_a_business_error_under_its_failure_metric(invoke, tap, placed, stocked):
    process = step_handler(
        ProcessPayment,
        payments.process_payment,
        bootstrap.Wired(PaymentDependencies),
        failure_metrics={PaymentDeclined: "PaymentFailures"},
    )
    declined = placed((stocked(), 1), token="tok_chargeDeclined")
    paid = placed((stocked(), 1))

    with pytest.raises(PaymentDeclined):
        invoke(process, {"order_id": declined})
    result = invoke(process, {"order_id": paid})

    assert Decimal(result["amount"]) > 0
    assert tap.counts() == Counter({"PaymentFailures": 1})
    assert tap.values("OrderDuration") == []
