"""Orders taken through each saga path on in-memory ports, and their events as a
DynamoDB stream would carry them to a Lambda function."""

from __future__ import annotations

import importlib.util
import itertools
import os
import sys
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from order_saga.adapters.catalog import InMemoryCatalog, Product
from order_saga.adapters.dynamodb_event_store import item_from_record
from order_saga.adapters.event_store import InMemoryEventStore
from order_saga.adapters.payment_gateway import SimulatedPaymentGateway
from order_saga.domain.commands import (
    CancelOrder,
    ConfirmOrder,
    CreateOrder,
    ItemRequest,
    ProcessPayment,
    RecordCompensationFailure,
    RefundPayment,
    ReleaseInventory,
    RequestCancellation,
    ReserveInventory,
    ShipOrder,
)
from order_saga.domain.events import StockAdded
from order_saga.domain.values import Address
from order_saga.errors import OutOfStock, PaymentDeclined
from order_saga.service_layer.catalog import stock_product
from order_saga.service_layer.inventory import release_inventory, reserve_inventory
from order_saga.service_layer.orders import (
    cancel_order,
    confirm_order,
    create_order,
    record_compensation_failure,
    request_cancellation,
    ship_order,
)
from order_saga.service_layer.payments import process_payment, refund_payment
from order_saga.service_layer.ports import Ports
from order_saga.service_layer.repository import order_stream, product_stream

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from order_saga.adapters.event_store import RecordedEvent

ROOT = Path(__file__).resolve().parents[2]
STREAM_ARN = (
    "arn:aws:dynamodb:us-east-1:123456789012:table/EventStoreTable/stream/2024-01-01T00:00:00.000"
)
_sequence = itertools.count(100_000_000_000_000_000_000)


ADDRESS = Address(street="1 Main St", city="Seattle", state="WA", postal_code="98101", country="US")


def in_memory_ports() -> Ports:
    return Ports(
        store=InMemoryEventStore(), catalog=InMemoryCatalog(), gateway=SimulatedPaymentGateway()
    )


def product(ports: Ports, price: str, stock: int) -> str:
    product_id = f"sku-{uuid.uuid4().hex[:12]}"
    stock_product(ports, product_id, product_id, Decimal(price), stock)
    return product_id


def legacy_product(ports: Ports, price: str, stock: int) -> str:
    """A product stocked as before the stock counters: StockAdded on its stream, no counter
    (the first reservation, release or restock opens one)."""
    product_id = f"sku-{uuid.uuid4().hex[:12]}"
    ports.catalog.put(Product(product_id=product_id, name=product_id, unit_price=Decimal(price)))
    ports.store.append(
        product_stream(product_id),
        0,
        [StockAdded(product_id=product_id, quantity=stock)],
        correlation_id=product_id,
    )
    return product_id


def place(ports: Ports, lines: list[tuple[str, int]], token: str = "tok_visa") -> str:
    command = CreateOrder(
        order_id=f"order-{uuid.uuid4().hex[:16]}",
        customer_id=f"cust-{uuid.uuid4().hex[:8]}",
        items=tuple(ItemRequest(product_id=p, quantity=q) for p, q in lines),
        shipping_address=ADDRESS,
        payment_method=token,
    )
    return create_order(command, ports).order_id


def every_path(ports: Ports) -> dict[str, str]:
    """Path -> order id, each run through its saga: confirmed then shipped, payment
    declined, out of stock (charged, refunded, cancelled)."""
    orders = {
        "shipped": place(ports, [(product(ports, "12.00", 5), 2)]),
        "declined": place(ports, [(product(ports, "3.50", 5), 1)], token="tok_chargeDeclined"),
        "out_of_stock": place(ports, [(product(ports, "10.00", 1), 3)]),
    }
    for order_id in orders.values():
        run_saga(ports, order_id)
    ship(ports, orders["shipped"])
    return orders


def released(ports: Ports) -> str:
    """An order paid and reserved whose confirmation failed: refunded, released, cancelled."""
    order_id = place(ports, [(product(ports, "7.00", 4), 2)])
    process_payment(ProcessPayment(order_id=order_id), ports)
    reserve_inventory(ReserveInventory(order_id=order_id), ports)
    refund_payment(RefundPayment(order_id=order_id), ports)
    release_inventory(ReleaseInventory(order_id=order_id), ports)
    cancel_order(CancelOrder(order_id=order_id, reason="States.Timeout"), ports)
    return order_id


def in_manual_review(ports: Ports) -> str:
    """An order charged and out of stock whose refund gave up: it awaits manual review."""
    order_id = place(ports, [(product(ports, "9.00", 1), 2)])
    process_payment(ProcessPayment(order_id=order_id), ports)
    record_compensation_failure(
        RecordCompensationFailure(
            order_id=order_id, failed_step="RefundPayment", error="GatewayUnavailable"
        ),
        ports,
    )
    return order_id


def cancelled_by_customer(ports: Ports) -> str:
    """An order whose customer asked to cancel before payment: the saga compensates."""
    order_id = place(ports, [(product(ports, "4.00", 3), 1)])
    request_cancellation(RequestCancellation(order_id=order_id, requested_by="cust-1"), ports)
    cancel_order(CancelOrder(order_id=order_id, reason="OrderCancellationRequested"), ports)
    return order_id


def run_saga(ports: Ports, order_id: str) -> None:
    """What the state machine does, in memory: charge, reserve, confirm, or compensate."""
    try:
        process_payment(ProcessPayment(order_id=order_id), ports)
        reserve_inventory(ReserveInventory(order_id=order_id), ports)
        confirm_order(ConfirmOrder(order_id=order_id), ports)
    except PaymentDeclined:
        cancel_order(CancelOrder(order_id=order_id, reason="PaymentDeclined"), ports)
    except OutOfStock as error:
        refund_payment(RefundPayment(order_id=order_id), ports)
        release_inventory(ReleaseInventory(order_id=order_id), ports)
        cancel_order(CancelOrder(order_id=order_id, reason="OutOfStock", cause=str(error)), ports)


def ship(ports: Ports, order_id: str) -> None:
    ship_order(ShipOrder(order_id=order_id), ports)


def order_records(ports: Ports, order_id: str) -> list[RecordedEvent]:
    return ports.store.load(order_stream(order_id))


def stream_record(recorded: RecordedEvent, event_name: str = "INSERT") -> dict[str, Any]:
    """The Lambda event record for one append, shaped as Lambda delivers it."""
    item = item_from_record(recorded)
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": int(recorded.occurred_at.timestamp()),
            "Keys": {"stream_id": item["stream_id"], "version": item["version"]},
            "NewImage": item,
            "SequenceNumber": str(next(_sequence)),
            "SizeBytes": 512,
            "StreamViewType": "NEW_IMAGE",
        },
        "eventSourceARN": STREAM_ARN,
    }


def poison_record(stream_id: str, version: int, image: dict[str, Any]) -> dict[str, Any]:
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1_700_000_000,
            "Keys": {"stream_id": {"S": stream_id}, "version": {"N": str(version)}},
            "NewImage": image,
            "SequenceNumber": str(next(_sequence)),
            "SizeBytes": 128,
            "StreamViewType": "NEW_IMAGE",
        },
        "eventSourceARN": STREAM_ARN,
    }


def batch(records: Iterable[RecordedEvent | dict[str, Any]]) -> dict[str, Any]:
    return {
        "Records": [r if isinstance(r, dict) else stream_record(r) for r in records],
    }


@dataclass
class LambdaContext:
    function_name: str = "unit-test"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:unit-test"
    memory_limit_in_mb: int = 256
    aws_request_id: str = "unit-test-request"
    log_group_name: str = "/aws/lambda/unit-test"
    log_stream_name: str = "unit"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def load_handler(function_dir: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The handler in functions/<dir>/app.py, loaded as Lambda would (its own module, its
    init run with the function's variables from template.yaml, which it checks)."""
    from local_runtime.emulator.template import Template

    path = ROOT / "functions" / function_dir / "app.py"
    name = f"_unit_{function_dir}_app"
    if name not in sys.modules:
        environment = next(
            spec.environment
            for spec in Template().functions().values()
            if spec.code_dir.name == function_dir
        )
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        saved = dict(os.environ)
        os.environ.update(environment)
        try:
            sys.modules[name] = module
            spec.loader.exec_module(module)
        finally:
            os.environ.clear()
            os.environ.update(saved)
    handler = sys.modules[name].handler

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        return handler(event, LambdaContext())  # type: ignore[no-any-return]

    return invoke
