"""What one stream says: an order's or a product's facts, and the violations its own
records show (versions, decoding, duplicate events, forbidden transitions)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ops.invariants.ledger import ZERO
from order_saga.domain.events import (
    CompensationFailed,
    InventoryReleased,
    InventoryReserved,
    OrderCreated,
    PaymentCompleted,
    PaymentRefunded,
    StockAdded,
    StockCounterOpened,
    StockReleased,
    StockReserved,
)
from order_saga.domain.order import Order
from order_saga.domain.order_status import FINISHED, TRANSITIONS, OrderStatus

if TYPE_CHECKING:
    from collections.abc import Sequence

    from order_saga.adapters.event_store import RecordedEvent
    from order_saga.domain.events import DomainEvent

ORDER_PREFIX = "order#"
PRODUCT_PREFIX = "product#"


@dataclass
class OrderFacts:
    order_id: str
    status: OrderStatus | None = None
    total: Decimal = ZERO
    charged: Decimal = ZERO
    refunded: Decimal = ZERO
    holds: dict[str, int] = field(default_factory=dict)
    """Units per product the order's stream says it holds (reserved, not released)."""
    reserved: dict[str, int] = field(default_factory=dict)
    """Units per product its InventoryReserved took, released since or not."""
    released: dict[str, int] = field(default_factory=dict)
    review: CompensationFailed | None = None
    violations: list[str] = field(default_factory=list)

    @property
    def net(self) -> Decimal:
        return self.charged - self.refunded


@dataclass
class ProductFacts:
    product_id: str
    added: int = 0
    available: int = 0
    holds: dict[str, int] = field(default_factory=dict)
    """Units per order id the product's stream says are reserved and not released (as they
    stood when the counter opened, for a product that has one)."""
    released: dict[str, int] = field(default_factory=dict)
    counter_opened: bool = False
    """The stream says the stock counter keeps its units available (StockCounterOpened)."""
    violations: list[str] = field(default_factory=list)


def _decoded(stream_id: str, records: Sequence[RecordedEvent]) -> tuple[list[Any], list[str]]:
    """(record, event) pairs that read back, and a violation for each that does not, and
    for versions that do not run 1, 2, 3..."""
    violations = []
    versions = [record.version for record in records]
    if versions != list(range(1, len(records) + 1)):
        violations.append(f"{stream_id}: versions {versions} do not run from 1 without a gap")
    decoded = []
    for record in records:
        if record.stream_id != stream_id:
            violations.append(f"{stream_id} v{record.version}: stored under {record.stream_id}")
            continue
        try:
            decoded.append((record, record.to_domain()))
        except (ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
            violations.append(
                f"{stream_id} v{record.version}: unreadable {record.event_type}: {exc}"
            )
    return decoded, violations


def order_facts(stream_id: str, records: Sequence[RecordedEvent]) -> OrderFacts:
    order_id = stream_id.removeprefix(ORDER_PREFIX)
    facts = OrderFacts(order_id)
    decoded, facts.violations = _decoded(stream_id, records)
    where = f"order {order_id}"
    if not decoded or not isinstance(decoded[0][1], OrderCreated):
        facts.violations.append(f"{where}: its stream does not start with OrderCreated")
        return facts
    seen: Counter[str] = Counter(type(event).__name__ for _, event in decoded)
    facts.violations += [
        f"{where}: {name} appears {count} times" for name, count in seen.items() if count > 1
    ]
    history: list[DomainEvent] = []
    status = OrderStatus.PENDING
    for record, event in decoded:
        history.append(event)
        try:
            order = Order.rebuild(history)
        except Exception as exc:  # any event the Order cannot fold is a broken history
            facts.violations.append(f"{where} v{record.version}: {type(event).__name__}: {exc}")
            return facts
        if order.status is not status and order.status not in TRANSITIONS[status]:
            facts.violations.append(
                f"{where} v{record.version}: {type(event).__name__} moved it from {status} "
                f"to {order.status}, which TRANSITIONS forbid"
            )
        status = order.status
        if getattr(event, "order_id", order_id) != order_id:
            facts.violations.append(f"{where} v{record.version}: an event of another order")
        match event:
            case PaymentCompleted():
                facts.charged += event.amount
            case PaymentRefunded():
                facts.refunded += event.amount
            case InventoryReserved():
                for line in event.lines:
                    facts.holds[line.product_id] = line.quantity
                    facts.reserved[line.product_id] = line.quantity
            case InventoryReleased():
                for line in event.lines:
                    if facts.holds.pop(line.product_id, None) != line.quantity:
                        facts.violations.append(
                            f"{where} v{record.version}: releases {line.quantity} of "
                            f"{line.product_id}, which it did not hold"
                        )
                    facts.released[line.product_id] = line.quantity
    facts.status = order.status
    facts.total = order.total
    facts.review = order.compensation_failure
    _check_order(order, facts)
    return facts


def _check_order(order: Order, facts: OrderFacts) -> None:
    where = f"order {facts.order_id}"
    if facts.refunded > facts.charged:
        facts.violations.append(f"{where}: refunded {facts.refunded}, charged {facts.charged}")
    if facts.charged not in (ZERO, order.total):
        facts.violations.append(f"{where}: charged {facts.charged} for a total of {order.total}")
    items = {item.product_id: item.quantity for item in order.items}
    if order.status in FINISHED:
        if facts.net != order.total:
            facts.violations.append(
                f"{where} is {order.status} but holds {facts.net} of its {order.total}"
            )
        if facts.holds != items:
            facts.violations.append(
                f"{where} is {order.status} but holds stock {facts.holds}, not its items {items}"
            )
    elif order.status is OrderStatus.CANCELLED:
        if facts.net != ZERO:
            facts.violations.append(f"{where} is CANCELLED but still holds {facts.net}")
        if facts.holds:
            facts.violations.append(f"{where} is CANCELLED but still holds stock {facts.holds}")
        if order.payment is not None and order.payment.is_unsettled:
            facts.violations.append(f"{where} is CANCELLED with a charge never settled")
    elif order.compensation_failure is None:
        facts.violations.append(f"{where} is stuck in {order.status} (not in manual review)")


def product_facts(stream_id: str, records: Sequence[RecordedEvent]) -> ProductFacts:
    product_id = stream_id.removeprefix(PRODUCT_PREFIX)
    facts = ProductFacts(product_id)
    decoded, facts.violations = _decoded(stream_id, records)
    where = f"product {product_id}"
    reserved: Counter[str] = Counter()
    released: Counter[str] = Counter()
    for record, event in decoded:
        at = f"{where} v{record.version}"
        if getattr(event, "product_id", product_id) != product_id:
            facts.violations.append(f"{at}: an event of product {event.product_id}")
        match event:
            case StockAdded():
                facts.added += event.quantity
                if not facts.counter_opened:
                    facts.available += event.quantity
            case StockCounterOpened():
                if facts.counter_opened:
                    facts.violations.append(f"{at}: its counter opened twice")
                held = sum(facts.holds.values())
                if (event.available, event.held) != (facts.available, held):
                    facts.violations.append(
                        f"{at}: the counter opened with {event.available} available and "
                        f"{event.held} held; the stream had {facts.available} and {held}"
                    )
                facts.counter_opened = True
            case StockReserved() | StockReleased() if facts.counter_opened:
                facts.violations.append(
                    f"{at}: {type(event).__name__} after its counter opened (reservations go "
                    "through the counter)"
                )
            case StockReserved():
                reserved[event.order_id] += 1
                if event.order_id in facts.holds:
                    facts.violations.append(f"{at}: order {event.order_id} reserved twice")
                facts.holds[event.order_id] = event.quantity
                facts.available -= event.quantity
                if facts.available < 0:
                    facts.violations.append(f"{at}: oversold, {facts.available} available")
            case StockReleased():
                released[event.order_id] += 1
                if facts.holds.pop(event.order_id, None) != event.quantity:
                    facts.violations.append(
                        f"{at}: releases {event.quantity} for order {event.order_id}, "
                        "which it did not hold"
                    )
                facts.released[event.order_id] = event.quantity
                facts.available += event.quantity
            case _:
                facts.violations.append(f"{at}: {type(event).__name__} in a product stream")
    facts.violations += [
        f"{where}: {kind} for order {order_id} appears {count} times"
        for kind, counts in (("StockReserved", reserved), ("StockReleased", released))
        for order_id, count in counts.items()
        if count > 1
    ]
    return facts
