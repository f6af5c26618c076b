"""One local runtime per test process: the real ASL and handlers on moto.

Tests share it, so each one works on its own random products and orders.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from local_runtime.runtime import Execution, LocalRuntime
from order_saga.service_layer.catalog import stock_product
from order_saga.service_layer.views import order_view, stock_level

if TYPE_CHECKING:
    from collections.abc import Iterator

    from order_saga.adapters.payment_gateway import SimulatedPaymentGateway
    from order_saga.service_layer.ports import Ports

ADDRESS = {
    "street": "1 Main St",
    "city": "Seattle",
    "state": "WA",
    "postal_code": "98101",
    "country": "US",
}


@pytest.fixture(scope="session")
def runtime() -> Iterator[LocalRuntime]:
    # Retry waits and timeouts a tenth as long as deployed (local_runtime.clock).
    with LocalRuntime(time_scale=0.1) as local:
        yield local


@dataclass
class Shop:
    """Drives the saga through the Api function, as a customer would."""

    runtime: LocalRuntime
    customer: str

    @property
    def ports(self) -> Ports:
        assert self.runtime.ports is not None
        return self.runtime.ports

    @property
    def gateway(self) -> SimulatedPaymentGateway:
        return self.ports.gateway  # type: ignore[return-value]

    def product(self, price: str, stock: int) -> str:
        product_id = f"sku-{uuid.uuid4().hex[:10]}"
        stock_product(self.ports, product_id, product_id, Decimal(price), stock)
        return product_id

    def order(self, items: list[tuple[str, int]], payment_method: str = "tok_visa") -> str:
        status, body, _ = self.runtime.api(
            "POST",
            "/orders",
            {
                "items": [{"product_id": p, "quantity": q} for p, q in items],
                "shipping_address": ADDRESS,
                "payment_method": payment_method,
            },
            {"X-Customer-Id": self.customer},
        )
        assert status == 202, body
        return str(body["order_id"])

    def run(
        self, items: list[tuple[str, int]], payment_method: str = "tok_visa"
    ) -> tuple[Execution, dict[str, Any]]:
        order_id = self.order(items, payment_method)
        execution = self.runtime.wait(order_id)
        return execution, order_view(self.ports.store, order_id)

    def stock(self, product_id: str) -> int:
        return stock_level(self.ports.store, product_id)


@pytest.fixture
def shop(runtime: LocalRuntime) -> Shop:
    return Shop(runtime, customer=f"cust-{uuid.uuid4().hex[:8]}")
