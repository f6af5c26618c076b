"""The invariants of the whole event store: no money and no stock is ever lost or created.

Checked over every stream the store holds (and, where there is one, the payment gateway's
own ledger):

- **money**: charged minus refunded equals the totals of the CONFIRMED and SHIPPED orders,
  plus what orders in manual review still hold (listed, never counted silently); per order,
  a kept order is charged its total once, a cancelled one holds nothing, and the gateway's
  ledger agrees with the store;
- **stock**: for every product, the stock added equals what is available plus what the
  CONFIRMED and SHIPPED orders hold (plus what orders in manual review hold, listed);
  what is available is the product's stock counter (the stock table) once its stream says
  the counter opened (StockCounterOpened), and what its stream says before that;
  availability never went below zero, no counter is negative, and no counter exists for
  a product whose stream did not open one; on a stream written before the counters, every
  unit it says an order holds is one the order's own stream reserved (and, while the
  counter is not open, the other way round), and no reservation follows the opening;
- **orders**: each is CONFIRMED, SHIPPED or CANCELLED, or in manual review; none is stuck;
  its status only ever moved along the Order's TRANSITIONS;
- **streams**: versions run 1, 2, 3... without a gap, every event reads back as its class,
  and no event appears twice (each fact of an order at most once; a product's reservation
  and release at most once per order);
- **read model** (when given one, once the stream is drained): every order in the store
  has its summary there, with the status the store gives it, and no other order has one.

``check(streams, ledger)`` is a pure function of the stored records. ``InvariantChecker``
keeps what it learnt per stream, so that checking again after a few writes reloads only
the streams that changed (the end-to-end tests check after every test this way).

Against a deployed stack (a Scan of the event store, then one Query per stream: for a
test or staging stack, not a busy production table):

    python -m ops.invariants --stack order-saga-dev
    python -m ops.invariants --table order-saga-dev-EventStoreTable-ABC123 \
        [--read-model order-saga-dev-ReadModelTable-DEF456]

With ``--stack`` the read model (output ReadModelTableName) is checked too; drain the
stream first (no order changing), or an order changed a moment ago reads as a violation.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

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
from order_saga.domain.order_status import FINISHED, TERMINAL, TRANSITIONS, OrderStatus

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from order_saga.adapters.event_store import EventStore, RecordedEvent
    from order_saga.adapters.payment_gateway import SimulatedPaymentGateway
    from order_saga.domain.events import DomainEvent
    from order_saga.service_layer.order_summaries import OrderSummary

ORDER_PREFIX = "order#"
PRODUCT_PREFIX = "product#"
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class LedgerLine:
    """What the payment gateway moved for one order."""

    charged: Decimal = ZERO
    refunded: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        return self.charged - self.refunded


Ledger = dict[str, LedgerLine]
"""Order id -> what the gateway charged and refunded for it."""


def gateway_ledger(gateway: SimulatedPaymentGateway) -> Ledger:
    """The simulated gateway's ledger by order (its idempotency keys are ``<order id>:<op>``)."""
    charged: dict[str, Decimal] = {}
    refunded: dict[str, Decimal] = {}
    for key, charge in dict(gateway.charges).items():
        order_id = key.rsplit(":", 1)[0]
        charged[order_id] = charged.get(order_id, ZERO) + charge.amount
    for key, refund in dict(gateway.refunds).items():
        order_id = key.rsplit(":", 1)[0]
        refunded[order_id] = refunded.get(order_id, ZERO) + refund.amount
    return {
        order_id: LedgerLine(charged.get(order_id, ZERO), refunded.get(order_id, ZERO))
        for order_id in {*charged, *refunded}
    }


# -- what one stream says ------------------------------------------------------------------


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


# -- the whole store -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewItem:
    """An order waiting for manual review, and what it still holds."""

    order_id: str
    status: str
    failed_step: str
    error: str
    money_held: Decimal
    stock_held: dict[str, int]
    ledger_held: Decimal | None


@dataclass
class InvariantReport:
    orders: int = 0
    products: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    manual_review: list[ReviewItem] = field(default_factory=list)
    charged: Decimal = ZERO
    refunded: Decimal = ZERO
    kept: Decimal = ZERO
    """Totals of the CONFIRMED and SHIPPED orders."""
    review_held: Decimal = ZERO
    ledger: LedgerLine | None = None
    stock_added: int = 0
    stock_available: int = 0
    stock_kept: int = 0
    stock_in_review: int = 0
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        statuses = ", ".join(f"{s} {n}" for s, n in sorted(self.by_status.items())) or "none"
        lines = [
            f"orders          {self.orders} ({statuses})",
            f"money           charged {self.charged} - refunded {self.refunded} = "
            f"{self.charged - self.refunded}; kept orders {self.kept}, "
            f"in manual review {self.review_held}",
        ]
        if self.ledger is not None:
            lines.append(
                f"gateway ledger  charged {self.ledger.charged} - refunded "
                f"{self.ledger.refunded} = {self.ledger.net}"
            )
        lines += [
            f"stock           {self.products} products: added {self.stock_added} = available "
            f"{self.stock_available} + kept {self.stock_kept} + in manual review "
            f"{self.stock_in_review}",
            f"manual review   {len(self.manual_review)} order(s)"
            + "".join(
                f"\n                {r.order_id} ({r.status}, {r.failed_step}: {r.error}) holds "
                f"{r.money_held} and stock {r.stock_held}"
                for r in self.manual_review
            ),
            f"violations      {len(self.violations)}"
            + "".join(f"\n                {v}" for v in self.violations),
        ]
        return "\n".join(lines)


class InvariantChecker:
    """What each stream says, kept between checks; ``refresh`` reloads streams, ``report``
    judges the whole store from what was loaded."""

    def __init__(self) -> None:
        self.orders: dict[str, OrderFacts] = {}
        self.products: dict[str, ProductFacts] = {}
        self.unknown: dict[str, int] = {}
        """Streams of no known kind, with their event counts: each is a violation."""

    def learn(self, stream_id: str, records: Sequence[RecordedEvent]) -> None:
        if stream_id.startswith(ORDER_PREFIX):
            self.orders[stream_id] = order_facts(stream_id, records)
        elif stream_id.startswith(PRODUCT_PREFIX):
            self.products[stream_id] = product_facts(stream_id, records)
        else:
            self.unknown[stream_id] = len(records)

    def counters(self, store: EventStore) -> dict[str, int]:
        """The stock counters of every product the store has a stream for (a counter with
        no stream is found only by a scan of the stock table: ``--stack`` does that)."""
        products = [stream.removeprefix(PRODUCT_PREFIX) for stream in self.products]
        return store.stock_levels(products)

    def refresh(self, store: EventStore, stream_ids: Iterable[str] | None = None) -> None:
        """Load ``stream_ids`` again (every stream of the store when None)."""
        for stream_id in store.stream_ids() if stream_ids is None else stream_ids:
            self.learn(stream_id, store.load(stream_id))

    def report(
        self,
        ledger: Mapping[str, LedgerLine] | None = None,
        counters: Mapping[str, int] | None = None,
        read_model: Iterable[OrderSummary] | None = None,
    ) -> InvariantReport:
        """Judge what was loaded. ``counters``: every stock counter, by product (none when
        omitted); ``read_model``: every summary it holds, to be checked against the store
        (only once the stream is drained)."""
        report = InvariantReport(orders=len(self.orders), products=len(self.products))
        report.violations += [f"{s}: a stream of no known kind" for s in sorted(self.unknown)]
        orders = {facts.order_id: facts for facts in self.orders.values()}
        for facts in orders.values():
            report.violations += facts.violations
            report.by_status[str(facts.status)] += 1
            report.charged += facts.charged
            report.refunded += facts.refunded
            if facts.status in FINISHED:
                report.kept += facts.total
            elif facts.review is not None and facts.status not in TERMINAL:
                report.review_held += facts.net
                report.manual_review.append(
                    ReviewItem(
                        order_id=facts.order_id,
                        status=str(facts.status),
                        failed_step=facts.review.failed_step,
                        error=facts.review.error,
                        money_held=facts.net,
                        stock_held=dict(facts.holds),
                        ledger_held=(
                            ledger.get(facts.order_id, LedgerLine()).net if ledger else None
                        ),
                    )
                )
        if report.charged - report.refunded != report.kept + report.review_held:
            report.violations.append(
                f"money: charged {report.charged} - refunded {report.refunded} is not kept "
                f"{report.kept} + in manual review {report.review_held}"
            )
        self._check_stock(orders, report, dict(counters or {}))
        if ledger is not None:
            self._check_ledger(orders, ledger, report)
        if read_model is not None:
            report.violations += read_model_violations(orders, read_model)
        report.manual_review.sort(key=lambda item: item.order_id)
        return report

    def _check_stock(
        self, orders: Mapping[str, OrderFacts], report: InvariantReport, counters: dict[str, int]
    ) -> None:
        in_review = {r.order_id for r in report.manual_review}
        held: dict[str, Counter[str]] = {}
        """product -> units held by the orders' own streams, kept and in manual review"""
        for order in orders.values():
            for product, quantity in order.holds.items():
                if order.status in FINISHED:
                    held.setdefault(product, Counter())["kept"] += quantity
                elif order.order_id in in_review:
                    held.setdefault(product, Counter())["review"] += quantity
        for facts in self.products.values():
            report.violations += facts.violations
            product = facts.product_id
            counter = counters.pop(product, None)
            if facts.counter_opened:
                if counter is None:
                    report.violations.append(
                        f"product {product}: its stream opened a stock counter it does not have"
                    )
                available = counter or 0
            else:
                if counter is not None:
                    report.violations.append(
                        f"product {product}: a stock counter ({counter}) its stream never opened"
                    )
                available = facts.available
            if available < 0:
                report.violations.append(f"product {product}: {available} available")
            self._check_stream_holds(facts, orders, report)
            kept, review = (
                held.get(product, Counter())["kept"],
                held.get(product, Counter())["review"],
            )
            report.stock_added += facts.added
            report.stock_available += available
            report.stock_kept += kept
            report.stock_in_review += review
            if facts.added != available + kept + review:
                report.violations.append(
                    f"product {product}: added {facts.added} is not available "
                    f"{available} + kept {kept} + in manual review {review}"
                )
        report.violations += [
            f"product {product}: a stock counter ({units}) and no stream"
            for product, units in sorted(counters.items())
        ]
        for order in orders.values():
            for product, quantity in order.holds.items():
                stock = self.products.get(PRODUCT_PREFIX + product)
                if stock is None:
                    report.violations.append(
                        f"order {order.order_id}: holds {quantity} of {product}, never stocked"
                    )
                elif not stock.counter_opened and stock.holds.get(order.order_id) != quantity:
                    report.violations.append(
                        f"order {order.order_id}: holds {quantity} of {product} by its own "
                        f"stream, {stock.holds.get(order.order_id, 0)} by the product's"
                    )

    @staticmethod
    def _check_stream_holds(
        facts: ProductFacts, orders: Mapping[str, OrderFacts], report: InvariantReport
    ) -> None:
        """Each hold on a product's stream is one the order reserved (and, until the counter
        opened, one it still holds)."""
        product = facts.product_id
        for order_id, quantity in facts.holds.items():
            order = orders.get(order_id)
            if order is None:
                report.violations.append(
                    f"product {product}: {quantity} held by order {order_id}, which does not exist"
                )
                continue
            says = order.reserved if facts.counter_opened else order.holds
            if says.get(product) != quantity:
                report.violations.append(
                    f"product {product}: order {order_id} holds {quantity} by the product's "
                    f"stream, {order.holds.get(product, 0)} by its own"
                )

    @staticmethod
    def _check_ledger(
        orders: Mapping[str, OrderFacts], ledger: Mapping[str, LedgerLine], report: InvariantReport
    ) -> None:
        total = LedgerLine(
            sum((line.charged for line in ledger.values()), ZERO),
            sum((line.refunded for line in ledger.values()), ZERO),
        )
        report.ledger = total
        review_ledger = sum((r.ledger_held or ZERO for r in report.manual_review), ZERO)
        if total.net != report.kept + review_ledger:
            report.violations.append(
                f"gateway: charged {total.charged} - refunded {total.refunded} is not kept "
                f"{report.kept} + in manual review {review_ledger}"
            )
        in_review = {r.order_id for r in report.manual_review}
        for order_id, line in sorted(ledger.items()):
            order = orders.get(order_id)
            if order is None:
                report.violations.append(f"gateway: {line.net} moved for order {order_id}, unknown")
            elif order_id not in in_review and line.net != order.net:
                report.violations.append(
                    f"order {order_id}: the gateway holds {line.net}, the store says {order.net}"
                )


def read_model_violations(
    orders: Mapping[str, OrderFacts], summaries: Iterable[OrderSummary]
) -> list[str]:
    """Every order of the store in the read model with the store's status; nothing else."""
    violations = []
    listed = {summary.order_id: summary for summary in summaries}
    for order_id, facts in sorted(orders.items()):
        summary = listed.get(order_id)
        if summary is None:
            violations.append(f"read model: order {order_id} ({facts.status}) is missing")
        elif summary.status != str(facts.status):
            violations.append(
                f"read model: order {order_id} is {summary.status} there, "
                f"{facts.status} in the store"
            )
    for order_id in sorted(set(listed) - set(orders)):
        violations.append(f"read model: order {order_id} is not in the store")
    return violations


def check(
    streams: Mapping[str, Sequence[RecordedEvent]],
    ledger: Mapping[str, LedgerLine] | None = None,
    counters: Mapping[str, int] | None = None,
) -> InvariantReport:
    """Judge a whole store given as stream id -> its records (in version order), and its
    stock counters by product."""
    checker = InvariantChecker()
    for stream_id, records in streams.items():
        checker.learn(stream_id, records)
    return checker.report(ledger, counters)


def check_store(
    store: EventStore,
    ledger: Mapping[str, LedgerLine] | None = None,
    read_model: Iterable[OrderSummary] | None = None,
) -> InvariantReport:
    checker = InvariantChecker()
    checker.refresh(store)
    return checker.report(ledger, checker.counters(store), read_model)


def stack_output(stack: str, key: str, cloudformation: Any = None) -> str:
    import boto3

    cloudformation = cloudformation or boto3.client("cloudformation")
    (described,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    for output in described.get("Outputs", []):
        if output["OutputKey"] == key:
            return str(output["OutputValue"])
    raise SystemExit(f"stack {stack} has no {key} output")


def stack_table(stack: str, cloudformation: Any = None) -> str:
    return stack_output(stack, "EventStoreTableName", cloudformation)


def main(argv: list[str] | None = None) -> int:
    import boto3

    from order_saga.adapters.dynamodb_event_store import DynamoDBEventStore

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", help="a deployed stack; its EventStoreTableName output")
    where.add_argument("--table", help="the event store table's name")
    parser.add_argument("--stock-table", help="the stock table's name (with --table)")
    parser.add_argument("--read-model", help="the read model table's name (with --table)")
    args = parser.parse_args(argv)
    table = args.table or stack_table(args.stack)
    stock = args.stock_table or (stack_output(args.stack, "StockTableName") if args.stack else None)
    views = args.read_model or (
        stack_output(args.stack, "ReadModelTableName") if args.stack else None
    )
    dynamodb = boto3.client("dynamodb")
    summaries = None
    if views:
        from order_saga.adapters.read_model import DynamoDBReadModel

        summaries = DynamoDBReadModel(views, dynamodb).scan()
    store = DynamoDBEventStore(table, dynamodb, stock_table=stock)
    report = check_store(store, read_model=summaries)
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
