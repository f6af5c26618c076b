"""Shared builders for the unit tests: a sample address and items, and in-memory ports.

Every id is random, so tests share nothing (and run in any order, in parallel).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest

from order_saga.adapters.catalog import InMemoryCatalog
from order_saga.adapters.event_store import InMemoryEventStore
from order_saga.adapters.payment_gateway import SimulatedPaymentGateway
from order_saga.adapters.saga_launcher import RecordingSagaLauncher
from order_saga.domain.commands import CreateOrder, ItemRequest
from order_saga.domain.values import Address, OrderItem
from order_saga.service_layer.catalog import stock_product
from order_saga.service_layer.orders import create_order
from order_saga.service_layer.ports import Ports

Line = tuple[str, int]
"""(product id, quantity)"""


def unique_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


@pytest.fixture
def new_id() -> Callable[[str], str]:
    """A random id with a readable prefix: ``new_id("order")`` -> ``order-3f2a...``."""
    return unique_id


@pytest.fixture
def address() -> Address:
    return Address(
        street="1 Main St", city="Seattle", state="WA", postal_code="98101", country="US"
    )


@pytest.fixture
def items() -> tuple[OrderItem, ...]:
    """3 x 19.99 + 1 x 0.05 = 60.02"""
    return (
        OrderItem(product_id=unique_id("sku"), quantity=3, unit_price=Decimal("19.99")),
        OrderItem(product_id=unique_id("sku"), quantity=1, unit_price=Decimal("0.05")),
    )


@pytest.fixture
def ports() -> Ports:
    return Ports(
        store=InMemoryEventStore(),
        catalog=InMemoryCatalog(),
        gateway=SimulatedPaymentGateway(),
        saga=RecordingSagaLauncher(),
    )


@pytest.fixture
def gateway(ports: Ports) -> SimulatedPaymentGateway:
    assert isinstance(ports.gateway, SimulatedPaymentGateway)
    return ports.gateway


@pytest.fixture
def saga(ports: Ports) -> RecordingSagaLauncher:
    assert isinstance(ports.saga, RecordingSagaLauncher)
    return ports.saga


@pytest.fixture
def stocked(ports: Ports) -> Callable[..., str]:
    """Put a new product in the catalog with some stock; returns its id."""

    def stocked(unit_price: str = "19.99", quantity: int = 10) -> str:
        product_id = unique_id("sku")
        stock_product(ports, product_id, f"Product {product_id}", Decimal(unit_price), quantity)
        return product_id

    return stocked


@pytest.fixture
def create_command(address: Address) -> Callable[..., CreateOrder]:
    """A CreateOrder for the given lines, with a fresh order id unless one is given."""

    def create_command(
        *lines: Line,
        order_id: str | None = None,
        token: str = "tok_visa",
        prices: dict[str, str] | None = None,
    ) -> CreateOrder:
        prices = prices or {}
        return CreateOrder(
            order_id=order_id or unique_id("order"),
            customer_id=unique_id("cust"),
            items=tuple(
                ItemRequest(
                    product_id=product_id,
                    quantity=quantity,
                    unit_price=Decimal(prices[product_id]) if product_id in prices else None,
                )
                for product_id, quantity in lines
            ),
            shipping_address=address,
            payment_method=token,
        )

    return create_command


@pytest.fixture
def placed(ports: Ports, create_command: Callable[..., CreateOrder]) -> Callable[..., str]:
    """Create an order for the given lines through the use case; returns its id."""

    def placed(*lines: Line, token: str = "tok_visa") -> str:
        return create_order(create_command(*lines, token=token), ports).order_id

    return placed
