"""The console's views: the saga as the Step Functions console shows it, as JSON, one view
an endpoint (local_runtime/console/routes.py serves them under /console).

The graph is drawn from the definition the local Step Functions holds, which the runtime
created from statemachine/order_saga.asl.json; the path of an execution comes from its
history (GetExecutionHistory), as on AWS. A sample order goes through the real Api
function, so it starts a real saga.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import boto3

from local_runtime.console.asl_graph import Graph, graph_of, mermaid
from local_runtime.console.execution_history import painted, steps_of, taken
from local_runtime.emulator.executions import ExecutionNotFound
from local_runtime.sample_catalog import ADDRESS, SAMPLE_PRODUCTS
from order_saga.errors import OrderNotFound
from order_saga.service_layer.catalog import stock_product
from order_saga.service_layer.views import order_events, order_view, stock_level

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime
    from order_saga.service_layer.ports import Ports

EXECUTION_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")
ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
CONSOLE_CUSTOMER = "cust-console"
SAMPLE_KINDS = ("success", "declined", "out_of_stock")


class ConsoleError(Exception):
    """A request the console refuses; ``name`` is the error's stable name."""

    def __init__(self, status: int, name: str, message: str) -> None:
        super().__init__(message)
        self.status, self.name = status, name

    def document(self) -> dict[str, str]:
        return {"error": self.name, "message": str(self)}


class Console:
    def __init__(self, runtime: LocalRuntime) -> None:
        self.runtime = runtime
        self._graph: Graph | None = None
        self._client: Any = None

    @property
    def stepfunctions(self) -> Any:
        """One client for every request (boto3 clients are thread-safe; making one is not
        free, and the page asks twice a second)."""
        if self._client is None:
            self._client = boto3.client("stepfunctions")
        return self._client

    @property
    def ports(self) -> Ports:
        assert self.runtime.ports is not None, "the runtime is not started"
        return self.runtime.ports

    def graph(self) -> Graph:
        """The graph of the definition the local Step Functions runs (it never changes)."""
        if self._graph is None:
            described = self.stepfunctions.describe_state_machine(
                stateMachineArn=self.runtime.state_machine_arn
            )
            self._graph = graph_of(json.loads(described["definition"]))
        return self._graph

    def state_machine(self) -> dict[str, Any]:
        graph = self.graph()
        return {
            "arn": self.runtime.state_machine_arn,
            "name": self.runtime.state_machine_arn.rsplit(":", 1)[-1],
            "mermaid": mermaid(graph),
            **graph.as_json(),
        }

    def executions(self, status: str | None, limit: int = DEFAULT_LIMIT) -> list[dict[str, Any]]:
        """The newest ``limit`` executions, newest first: one page of ListExecutions, so
        the answer costs the same whatever the history."""
        if status is not None and status not in EXECUTION_STATUSES:
            raise ConsoleError(
                400, "InvalidStatus", f"status {status!r} is not one of {list(EXECUTION_STATUSES)}"
            )
        # ListExecutions, or for Express the runtime's execution log (Express has none).
        listed = self.runtime.executions(status, limit)
        listed.sort(key=lambda e: e["startDate"], reverse=True)
        return [_execution_row(e) for e in listed]

    def execution(self, order_id: str) -> dict[str, Any]:
        if not ORDER_ID.fullmatch(order_id):
            raise ConsoleError(400, "InvalidOrderId", f"{order_id!r} is not an order id")
        try:
            arn = self.runtime.execution_arn(order_id)
            described = self.runtime.describe(arn)
        except ExecutionNotFound:
            if self._waiting_for_saga(order_id):
                raise ConsoleError(
                    404,
                    "SagaNotStarted",
                    f"order {order_id} is accepted and waits for its saga to start "
                    "(the event store stream's saga starter, or the reconciler, starts it)",
                ) from None
            raise ConsoleError(404, "ExecutionNotFound", f"no execution {order_id}") from None
        history = self.runtime.history(arn)
        steps = steps_of(history)
        graph = self.graph()
        colours = painted(graph, steps)
        edges = taken(graph, steps, described["status"])
        try:
            order: dict[str, Any] | None = order_view(self.ports.store, order_id)
            events = order_events(self.ports.store, order_id)
        except OrderNotFound:
            order, events = None, []
        return {
            "execution": _execution_row(cast("dict[str, Any]", described))
            | {
                "arn": arn,
                "input": described.get("input"),
                "output": described.get("output"),
                "error": described.get("error"),
                "cause": described.get("cause"),
            },
            "path": [step.name for step in steps],
            "steps": [
                step.as_json() | {"paint": _paint(graph, colours, step.name)} for step in steps
            ],
            "history": history_rows(history),
            "painted": colours,
            "taken_edges": edges,
            "mermaid": mermaid(graph, colours, edges),
            "order": order,
            "domain_events": events,
        }

    def _waiting_for_saga(self, order_id: str) -> bool:
        try:
            return bool(order_view(self.ports.store, order_id)["waiting_for_saga"])
        except OrderNotFound:
            return False

    def submit_sample(self, kind: object) -> tuple[int, dict[str, Any]]:
        """(status, body): 202 with the order's id, or the API's own refusal as it gave it."""
        if kind not in SAMPLE_KINDS:
            raise ConsoleError(
                422, "UnknownSampleKind", f"kind {kind!r} is not one of {list(SAMPLE_KINDS)}"
            )
        body = sample_order(self.ports, str(kind))
        status, answer, _ = self.runtime.api(
            "POST", "/orders", body, {"X-Customer-Id": CONSOLE_CUSTOMER}
        )
        if status != 202:
            return status, answer
        return 202, {"kind": kind, "order_id": answer["order_id"]}


def _paint(graph: Graph, colours: dict[str, str], state: str) -> str | None:
    node = graph.node(state)
    return colours.get(node.id) if node else None


def history_rows(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The raw history, one line an event: id, type, time and the state it belongs to."""
    rows, state = [], None
    for event in history:
        details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails")
        if details:
            state = details.get("name")
        rows.append(
            {
                "id": event["id"],
                "type": event["type"],
                "timestamp": event["timestamp"].isoformat(),
                "state": state if not event["type"].startswith("Execution") else None,
            }
        )
    return rows


def sample_order(ports: Ports, kind: str) -> dict[str, Any]:
    """The body of a sample order of ``kind``, stocking the sample products it needs.

    "success" buys beans and a kettle (restocked when short, so it always succeeds);
    "declined" pays with the gateway's declined card; "out_of_stock" asks for one burr
    grinder more than the shop holds, so it fails at ReserveInventory after the charge.
    """
    if kind == "success":
        items = [("sku-espresso-beans", 2), ("sku-pour-over-kettle", 1)]
        payment = "tok_visa"
    elif kind == "declined":
        items = [("sku-espresso-beans", 1)]
        payment = "tok_chargeDeclined"
    else:
        _ensure_stock(ports, "sku-burr-grinder", 0)
        available = stock_level(ports.store, "sku-burr-grinder")
        items = [("sku-burr-grinder", min(available + 1, 1000))]
        payment = "tok_visa"
    if kind != "out_of_stock":
        for product_id, quantity in items:
            _ensure_stock(ports, product_id, quantity)
    return {
        "items": [{"product_id": p, "quantity": q} for p, q in items],
        "shipping_address": ADDRESS,
        "payment_method": payment,
    }


def _ensure_stock(ports: Ports, product_id: str, quantity: int) -> None:
    """The sample product in the catalog with at least ``quantity`` units available."""
    _, name, price, units = next(p for p in SAMPLE_PRODUCTS if p[0] == product_id)
    if ports.catalog.get(product_id) is None or stock_level(ports.store, product_id) < quantity:
        stock_product(ports, product_id, name, price, max(units, quantity))


def _execution_row(execution: dict[str, Any]) -> dict[str, Any]:
    started: datetime = execution["startDate"]
    stopped: datetime | None = execution.get("stopDate")
    ended = stopped or datetime.now(UTC)
    return {
        "order_id": execution["name"],
        "status": execution["status"],
        "start": started.isoformat(),
        "stop": stopped.isoformat() if stopped else None,
        "duration_ms": max(0, round((ended - started).total_seconds() * 1000)),
    }
