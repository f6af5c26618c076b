"""The console's JSON and files over HTTP, against the local runtime: what the page draws."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.e2e.conftest import Client, Shop

ROOT = Path(__file__).resolve().parents[2]
ASL = json.loads((ROOT / "statemachine" / "order_saga.asl.json").read_text())
COMPENSATION = ["RefundPayment", "ReleaseInventory", "CancelOrder", "OrderCancelled"]


def console(client: Client, path: str, **kwargs: Any) -> Any:
    response = client.get(f"/console/api{path}", **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_state_machine_endpoint_draws_exactly_the_states_of_the_asl_file(
    client: Client,
) -> None:
    machine = console(client, "/state-machine")

    states = [node["name"] for node in machine["nodes"] if node["kind"] == "state"]
    assert states == list(ASL["States"])
    declared = re.findall(r'^    (\w+)[\[\(\{/]+"', machine["mermaid"], re.MULTILINE)
    assert len(declared) == len(ASL["States"]) + 2  # and the Start and End markers
    catches = sum(len(state.get("Catch", [])) for state in ASL["States"].values())
    assert machine["mermaid"].count("-.->") == catches


def test_an_execution_shows_its_steps_path_colours_and_the_order_s_domain_events(
    client: Client, shop: Shop
) -> None:
    product = shop.product("12.00", 1)
    order_id = shop.order([(product, 2)])
    shop.runtime.wait(order_id)

    detail = console(client, f"/executions/{order_id}")

    assert detail["execution"]["status"] == "FAILED"
    assert detail["execution"]["error"] == "OutOfStock"
    assert detail["path"] == ["ProcessPayment", "ReserveInventory", *COMPENSATION]
    assert detail["painted"] == {
        "ProcessPayment": "succeeded",
        "ReserveInventory": "failed",
        "RefundPayment": "compensating",
        "ReleaseInventory": "compensating",
        "CancelOrder": "compensating",
        "OrderCancelled": "failed",
    }
    failed = detail["steps"][1]
    assert (failed["name"], failed["status"], failed["error"]) == (
        "ReserveInventory",
        "failed",
        "OutOfStock",
    )
    assert "not enough stock" in failed["cause"]
    assert json.loads(failed["input"])["order_id"] == order_id
    assert json.loads(failed["output"])["error"]["Error"] == "OutOfStock"
    assert [e["type"] for e in detail["domain_events"]] == [
        "OrderCreated",
        "PaymentProcessing",
        "PaymentCompleted",
        "InventoryReservationFailed",
        "CompensationStarted",
        "PaymentRefunded",
        "OrderCancelled",
    ]
    assert detail["order"]["status"] == "CANCELLED"
    assert detail["history"][0]["type"] == "ExecutionStarted"
    assert detail["history"][-1]["type"] == "ExecutionFailed"
    assert "    class ReserveInventory,OrderCancelled failed" in detail["mermaid"]


def test_the_list_shows_each_execution_once_and_filters_by_status(
    client: Client, shop: Shop
) -> None:
    product = shop.product("5.00", 10)
    confirmed = shop.order([(product, 1)])
    declined = shop.order([(product, 1)], payment_method="tok_chargeDeclined")
    for order_id in (confirmed, declined):
        shop.runtime.wait(order_id)

    everything = console(client, "/executions")
    failed = console(client, "/executions?status=FAILED")
    succeeded = console(client, "/executions?status=SUCCEEDED")

    rows = {row["order_id"]: row for row in everything}
    assert rows[confirmed]["status"] == "SUCCEEDED"
    assert rows[declined]["status"] == "FAILED"
    assert rows[declined]["duration_ms"] >= 0 and rows[declined]["stop"] is not None
    assert declined in {r["order_id"] for r in failed} - {r["order_id"] for r in succeeded}
    assert {r["status"] for r in failed} == {"FAILED"}
    starts = [row["start"] for row in everything]
    assert starts == sorted(starts, reverse=True)
    assert [row["order_id"] for row in console(client, "/executions?limit=2")] == [
        row["order_id"] for row in everything[:2]
    ]


def test_a_sample_order_goes_through_the_api_as_the_console_s_customer(
    client: Client, shop: Shop
) -> None:
    # Each kind's path and status is checked in the browser (test_console_browser.py).
    response = client.post("/console/api/sample-orders", {"kind": "declined"})

    assert response.status_code == 202, response.text
    order_id = response.json()["order_id"]
    execution = shop.runtime.wait(order_id)
    assert (execution.status, execution.error) == ("FAILED", "PaymentDeclined")
    assert console(client, f"/executions/{order_id}")["order"]["customer_id"] == "cust-console"


def test_an_unchanged_script_is_not_sent_again(client: Client) -> None:
    first = client.get("/console/static/mermaid.min.js")

    again = client.get(
        "/console/static/mermaid.min.js", headers={"If-None-Match": first.headers["ETag"]}
    )

    assert first.status_code == 200 and len(first.content) > 1_000_000
    assert again.status_code == 304 and again.content == b""


@pytest.mark.parametrize(
    ("call", "status", "error"),
    [
        (("POST", "/console/api/sample-orders", {"kind": "free"}), 422, "UnknownSampleKind"),
        (("POST", "/console/api/sample-orders", None), 422, "UnknownSampleKind"),
        (("POST", "/console/api/sample-orders", [1]), 400, "MalformedJson"),
        (("GET", "/console/api/executions?status=DONE", None), 400, "InvalidStatus"),
        (("GET", "/console/api/executions/no%20such", None), 400, "InvalidOrderId"),
        (("GET", "/console/api/executions/ord-1%0A", None), 400, "InvalidOrderId"),
        (("GET", "/console/api/executions?limit=5.0", None), 422, "InvalidLimit"),
        (("GET", "/console/api/executions?limit=%2B5", None), 422, "InvalidLimit"),
        (("GET", "/console/api/executions?limit=1_0", None), 422, "InvalidLimit"),
        (("GET", "/console/api/executions?limit=0", None), 422, "InvalidLimit"),
        (
            ("GET", f"/console/api/executions/ord-{uuid.uuid4().hex}", None),
            404,
            "ExecutionNotFound",
        ),
        (("GET", "/console/static/..%2f..%2ftemplate.yaml", None), 404, "NotFound"),
        (("DELETE", "/console/api/executions", None), 404, "NotFound"),
    ],
)
def test_the_console_refuses_what_it_does_not_serve_by_name(
    client: Client, call: tuple[str, str, Any], status: int, error: str
) -> None:
    method, path, body = call

    def newest() -> list[str]:
        return [row["order_id"] for row in console(client, "/executions?limit=1")]

    before = newest()

    response = client.call(method, path, body)

    assert (response.status_code, response.json()["error"]) == (status, error)
    assert newest() == before  # no saga started


def test_the_page_loads_its_scripts_and_styles_from_the_project_only(client: Client) -> None:
    page = client.get("/console")

    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/console/static/") or s == "data:," for s in sources)
    for source in sources:
        if source.startswith("/"):
            asset = client.get(source)
            assert asset.status_code == 200, source
            assert len(asset.content) > 1000
    script = client.get("/console/static/console.js").text
    assert "http://" not in script and "https://" not in script
