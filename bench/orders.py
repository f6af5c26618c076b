"""Placing an order as a customer would, for the benches that need many."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from local_runtime.sample_catalog import ADDRESS

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime


def place_order(runtime: LocalRuntime, items: list[dict[str, Any]], customer: str) -> str:
    """POST /orders through the Api function; the accepted order's id (AssertionError on
    any other answer)."""
    status, body, _ = runtime.api(
        "POST",
        "/orders",
        {"items": items, "shipping_address": ADDRESS, "payment_method": "tok_visa"},
        {"X-Customer-Id": customer},
    )
    if status != 202:
        raise AssertionError(f"the API answered {status}: {body}")
    return str(body["order_id"])
