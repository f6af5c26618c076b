"""An execution's history, read as the console shows it: steps, colours, edges taken.

The histories here have the shapes moto's interpreter (and AWS) write; the e2e tests
read real ones.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from local_runtime.console.asl_graph import graph_of
from local_runtime.console.execution_history import painted, steps_of, taken

ASL = json.loads(
    (Path(__file__).resolve().parents[2] / "statemachine" / "order_saga.asl.json").read_text()
)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class History:
    """Builds a history event by event, one millisecond apart."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def add(self, kind: str, details_key: str | None = None, **details: Any) -> History:
        event: dict[str, Any] = {
            "id": len(self.events) + 1,
            "type": kind,
            "timestamp": T0 + timedelta(milliseconds=len(self.events)),
        }
        if details_key:
            event[details_key] = details
        self.events.append(event)
        return self

    def entered(self, name: str, kind: str = "Task", data: str = "{}") -> History:
        return self.add(f"{kind}StateEntered", "stateEnteredEventDetails", name=name, input=data)

    def exited(self, name: str, kind: str = "Task", data: str = "{}") -> History:
        return self.add(f"{kind}StateExited", "stateExitedEventDetails", name=name, output=data)

    def attempt(self, error: str | None = None, cause: str = "") -> History:
        self.add("LambdaFunctionScheduled", "lambdaFunctionScheduledEventDetails", input="{}")
        if error:
            return self.add(
                "LambdaFunctionFailed", "lambdaFunctionFailedEventDetails", error=error, cause=cause
            )
        return self.add("LambdaFunctionSucceeded", "lambdaFunctionSucceededEventDetails")

    def task(self, name: str, *errors: str) -> History:
        """A task whose attempts raise ``errors`` in turn; the last one settles it."""
        self.entered(name)
        for error in errors or (None,):
            self.attempt(error, f"{error} cause" if error else "")
        return self.exited(name)


def states(history: History, status: str) -> tuple[dict[str, str], list[str]]:
    graph = graph_of(ASL)
    steps = steps_of(history.events)
    edges = [graph.edges[i] for i in taken(graph, steps, status)]
    names = {node.id: node.name for node in graph.nodes}
    return painted(graph, steps), [
        f"{names[e.source]}->{names[e.target]}" + (f" ({e.label})" if e.label else "")
        for e in edges
    ]


def test_the_happy_path_is_green_and_runs_start_to_end() -> None:
    history = History().add("ExecutionStarted")
    for name in ("ProcessPayment", "ReserveInventory", "ConfirmOrder"):
        history.task(name)
    history.add("ExecutionSucceeded", "executionSucceededEventDetails", output="{}")

    colours, edges = states(history, "SUCCEEDED")

    assert colours == {
        "ProcessPayment": "succeeded",
        "ReserveInventory": "succeeded",
        "ConfirmOrder": "succeeded",
    }
    assert edges == [
        "Start->ProcessPayment",
        "ProcessPayment->ReserveInventory",
        "ReserveInventory->ConfirmOrder",
        "ConfirmOrder->End",
    ]


def test_a_caught_error_paints_its_step_red_the_compensation_amber_and_takes_its_catch() -> None:
    history = History().add("ExecutionStarted").task("ProcessPayment", "PaymentDeclined")
    history.task("CancelOrder").entered("OrderCancelled", "Fail")
    history.add(
        "ExecutionFailed", "executionFailedEventDetails", error="PaymentDeclined", cause="declined"
    )

    colours, edges = states(history, "FAILED")
    steps = steps_of(history.events)

    assert colours == {
        "ProcessPayment": "failed",
        "CancelOrder": "compensating",
        "OrderCancelled": "failed",
    }
    assert edges == [
        "Start->ProcessPayment",
        "ProcessPayment->CancelOrder (PaymentDeclined)",
        "CancelOrder->OrderCancelled",
        "OrderCancelled->End",
    ]
    assert [(s.name, s.status, s.error, s.cause) for s in steps] == [
        ("ProcessPayment", "failed", "PaymentDeclined", "PaymentDeclined cause"),
        ("CancelOrder", "succeeded", None, None),
        ("OrderCancelled", "failed", "PaymentDeclined", "declined"),
    ]


def test_the_first_catch_that_matches_is_the_edge_taken() -> None:
    history = History().task("ProcessPayment").task("ReserveInventory", "OutOfStock")
    history.entered("RefundPayment")

    _, edges = states(history, "RUNNING")

    assert edges[-1] == "ReserveInventory->RefundPayment (OutOfStock)"


def test_a_step_retried_into_success_counts_its_attempts_and_stays_green() -> None:
    history = History().task("ProcessPayment", "GatewayUnavailable", "GatewayUnavailable", "")

    (step,) = steps_of(history.events)

    assert (step.status, step.attempts, step.error) == ("succeeded", 3, None)
    assert step.retried_errors == ["GatewayUnavailable", "GatewayUnavailable"]
    assert step.input == "{}" and step.output == "{}"


def test_an_uncaught_error_fails_the_step_the_execution_ended_in() -> None:
    history = History().entered("ProcessPayment").attempt("Boom", "it broke")
    history.add("ExecutionFailed", "executionFailedEventDetails", error="Boom", cause="it broke")

    colours, edges = states(history, "FAILED")
    (step,) = steps_of(history.events)

    assert (step.status, step.error, step.cause) == ("failed", "Boom", "it broke")
    assert step.exited_at is not None
    assert colours == {"ProcessPayment": "failed"}
    assert edges == ["Start->ProcessPayment"]


def test_a_running_execution_paints_its_current_state_and_no_end() -> None:
    history = History().add("ExecutionStarted").task("ProcessPayment")
    history.entered("ReserveInventory").add(
        "LambdaFunctionScheduled", "lambdaFunctionScheduledEventDetails"
    )

    colours, edges = states(history, "RUNNING")
    steps = steps_of(history.events)

    assert colours == {"ProcessPayment": "succeeded", "ReserveInventory": "running"}
    assert edges == ["Start->ProcessPayment", "ProcessPayment->ReserveInventory"]
    assert steps[-1].as_json()["duration_ms"] is None


def test_a_succeed_state_off_the_forward_path_is_green() -> None:
    history = History().task("ProcessPayment").task("ReserveInventory").task("ConfirmOrder", "X")
    history.task("RefundPayment").task("ReleaseInventory").task(
        "CancelOrder", "OrderConfirmedAfterAll"
    )
    history.entered("OrderConfirmed", "Succeed").add("ExecutionSucceeded")

    colours, edges = states(history, "SUCCEEDED")

    assert colours["OrderConfirmed"] == "succeeded"
    assert colours["RefundPayment"] == "compensating"
    assert colours["CancelOrder"] == "failed"
    assert edges[-2:] == [
        "CancelOrder->OrderConfirmed (OrderConfirmedAfterAll)",
        "OrderConfirmed->End",
    ]
