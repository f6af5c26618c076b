"""The events/ files that `sam local invoke` uses are valid inputs for their functions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from local_runtime.sample_catalog import seed
from order_saga.domain.commands import (
    CancelOrder,
    ConfirmOrder,
    ProcessPayment,
    RefundPayment,
    ReleaseInventory,
    ReserveInventory,
)
from order_saga.entrypoints.parsing import parse

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load(name: str) -> object:
    return json.loads((EVENTS / name).read_text())


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("process_payment.json", ProcessPayment),
        ("refund_payment.json", RefundPayment),
        ("reserve_inventory.json", ReserveInventory),
        ("release_inventory.json", ReleaseInventory),
        ("confirm_order.json", ConfirmOrder),
        ("cancel_order.json", CancelOrder),
    ],
)
def test_each_step_event_is_a_valid_command(name: str, command: type) -> None:
    assert parse(command, load(name)).order_id == "ord-sample-0001"


def test_the_sample_api_events_create_and_read_an_order(runtime: LocalRuntime) -> None:
    assert runtime.ports is not None
    seed(runtime.ports)

    created, error = runtime.functions.invoke("ApiFunction", load("api_create_order.json"))
    assert error is None
    assert created["statusCode"] == 202
    order_id = json.loads(created["body"])["order_id"]
    runtime.wait(order_id)

    read_event = load("api_get_order.json")
    assert isinstance(read_event, dict)
    read_event["path"] = f"/orders/{order_id}"
    read_event["pathParameters"] = {"order_id": order_id}
    read, error = runtime.functions.invoke("ApiFunction", read_event)
    assert error is None
    assert read["statusCode"] == 200
    assert json.loads(read["body"])["status"] == "CONFIRMED"
