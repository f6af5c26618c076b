"""Property-based tests of the aggregates (hypothesis): random sequences of commands on a
few orders and products, run as the use cases run them (refused commands leave no event;
a unit of work that fails stores nothing), never break a rule:

- an order's status only moves along TRANSITIONS;
- a refund never exceeds the charge and happens at most once;
- stock never goes below zero, and each product's stock is what was added less what the
  orders hold;
- a cancelled order holds neither money nor stock; what an order holds, its products hold
  for it;
- an aggregate rebuilt from its stored events is the aggregate that stored them.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from order_saga.domain.events import DomainEvent, PaymentRefunded
from order_saga.domain.inventory import Inventory, ProductStock
from order_saga.domain.order import Order
from order_saga.domain.order_status import TRANSITIONS, OrderStatus
from order_saga.domain.values import Address, OrderItem, StockLine
from order_saga.errors import OutOfStock, SagaError

PRODUCTS = ("sku-a", "sku-b", "sku-c")
PRICES = {"sku-a": Decimal("19.99"), "sku-b": Decimal("0.05"), "sku-c": Decimal("250.00")}
ADDRESS = Address(street="1 Main St", city="Seattle", state="WA", postal_code="98101", country="US")
COMMANDS = (
    "start_payment",
    "complete_payment",
    "fail_payment",
    "reserve",
    "release",
    "confirm",
    "refund",
    "cancel",
    "ship",
    "request_cancellation",
    "record_compensation_failure",
)
MAX_ORDERS = 3
"""Few orders, so that the commands go deep into each one's history."""
S = OrderStatus
NEXT = {
    S.PENDING: ("start_payment",) * 4 + ("cancel", "request_cancellation"),
    S.PAYMENT_PROCESSING: ("complete_payment",) * 3 + ("fail_payment", "cancel", "refund"),
    S.PAYMENT_COMPLETED: ("reserve",) * 3
    + ("refund", "refund", "cancel", "cancel", "record_compensation_failure"),
    S.INVENTORY_RESERVED: ("confirm", "release", "refund") * 2
    + ("cancel", "cancel", "request_cancellation"),
    S.CONFIRMED: ("ship", "ship", "refund", "release", "cancel", "request_cancellation"),
    S.SHIPPED: COMMANDS,
    S.CANCELLED: COMMANDS,
}
"""Commands a saga (or a confused caller) would try next in each status, the step forward
most often: drawing from these as well as from all of them reaches deep histories fast."""


def order_state(order: Order) -> tuple[Any, ...]:
    payment = order.payment
    reservation = order.reservation
    return (
        order.version,
        order.status,
        payment
        and (
            payment.status,
            payment.amount,
            payment.charged,
            payment.refunded,
            payment.payment_id,
            payment.refund_id,
        ),
        reservation and (reservation.reservation_id, reservation.lines, reservation.released),
        order.shortages,
        order.cancel_reason,
        order.compensation_failure,
        order.cancellation,
    )


def stock_state(stock: ProductStock) -> tuple[Any, ...]:
    return (stock.version, stock.available, dict(stock.reserved))


class OrdersAndStock(RuleBasedStateMachine):
    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.ids = itertools.count(1)
        self.stocks: dict[str, ProductStock] = {}
        self.added: dict[str, int] = {}
        self.history: dict[str, list[DomainEvent]] = {}
        self.live: dict[str, Order] = {}
        self.refunds: dict[str, int] = {}

    # -- storing, as a use case's single append does --------------------------------------

    def store(self, key: str, aggregate: Order | ProductStock) -> None:
        self.history.setdefault(key, []).extend(aggregate.pending)
        aggregate.mark_stored()

    def discard(self) -> None:
        """A failed unit of work appends nothing: every aggregate back to what is stored."""
        for order_id, order in self.live.items():
            if order.pending:
                self.live[order_id] = Order.rebuild(self.history[order_id])
        for product, stock in self.stocks.items():
            if stock.pending:
                self.stocks[product] = ProductStock.rebuild(self.history[product])

    @initialize(stock=st.lists(st.integers(1, 12), min_size=3, max_size=3))
    def stock_the_shelves(self, stock: list[int]) -> None:
        for product, quantity in zip(PRODUCTS, stock, strict=True):
            self.stocks[product] = ProductStock.new(product)
            self.stocks[product].add(quantity)
            self.store(product, self.stocks[product])
            self.added[product] = quantity

    @precondition(lambda self: len(self.live) < MAX_ORDERS)
    @rule(
        target=orders,
        lines=st.lists(
            st.tuples(st.sampled_from(PRODUCTS), st.integers(1, 3)),
            min_size=1,
            max_size=3,
            unique_by=lambda line: line[0],
        ),
    )
    def create(self, lines: list[tuple[str, int]]) -> str:
        order_id = f"order-{next(self.ids)}"
        items = tuple(OrderItem(product_id=p, quantity=q, unit_price=PRICES[p]) for p, q in lines)
        order = Order.create(
            order_id=order_id,
            customer_id="cust-1",
            items=items,
            shipping_address=ADDRESS,
            payment_method="tok_visa",
        )
        self.live[order_id] = order
        self.store(order_id, order)
        return order_id

    @rule(order_id=orders, command=st.sampled_from(COMMANDS))
    def any_command(self, order_id: str, command: str) -> None:
        self.command(order_id, command)

    @rule(order_id=orders, data=st.data())
    def a_likely_next_command(self, order_id: str, data: st.DataObject) -> None:
        self.command(order_id, data.draw(st.sampled_from(NEXT[self.live[order_id].status])))

    def command(self, order_id: str, command: str) -> None:
        order = self.live[order_id]
        before_status, before = order.status, order_state(order)
        stocks_before = {p: stock_state(s) for p, s in self.stocks.items()}
        try:
            getattr(self, f"_{command}")(order)
        except SagaError:
            # The aggregate that refused recorded nothing; the unit of work stores nothing.
            self.discard()
            assert order_state(self.live[order_id]) == before
            assert {p: stock_state(s) for p, s in self.stocks.items()} == stocks_before
            return
        after = self.live[order_id].status
        assert after is before_status or after in TRANSITIONS[before_status], (
            f"{command}: {before_status} -> {after}"
        )

    # -- the commands, as the use cases call the domain ----------------------------------

    def _start_payment(self, order: Order) -> None:
        order.start_payment(f"{order.order_id}:charge")
        self.store(order.order_id, order)

    def _complete_payment(self, order: Order) -> None:
        order.complete_payment(f"pay-{order.order_id}")
        self.store(order.order_id, order)

    def _fail_payment(self, order: Order) -> None:
        order.fail_payment("declined")
        self.store(order.order_id, order)

    def _reserve(self, order: Order) -> None:
        lines = tuple(StockLine(product_id=i.product_id, quantity=i.quantity) for i in order.items)
        inventory = Inventory({line.product_id: self.stocks[line.product_id] for line in lines})
        order.reserve_inventory(f"res-{order.order_id}", lines)
        try:
            inventory.reserve(order.order_id, lines)
        except OutOfStock as shortage:
            assert not inventory.changed(), "a refused reservation took some stock"
            self.discard()
            order = self.live[order.order_id]
            order.fail_reservation(shortage.shortages)
            self.store(order.order_id, order)
            return
        self.store(order.order_id, order)
        for stock in inventory.changed():
            self.store(stock.product_id, stock)

    def _release(self, order: Order) -> None:
        event = order.release_inventory()
        inventory = Inventory(
            {line.product_id: self.stocks[line.product_id] for line in event.lines}
        )
        inventory.release(order.order_id, event.lines)
        self.store(order.order_id, order)
        for stock in inventory.changed():
            self.store(stock.product_id, stock)

    def _confirm(self, order: Order) -> None:
        order.confirm()
        self.store(order.order_id, order)

    def _refund(self, order: Order) -> None:
        order.refund_payment(f"re-{order.order_id}")
        self.refunds[order.order_id] = self.refunds.get(order.order_id, 0) + 1
        self.store(order.order_id, order)

    def _cancel(self, order: Order) -> None:
        order.cancel("test")
        self.store(order.order_id, order)

    def _ship(self, order: Order) -> None:
        order.ship()
        self.store(order.order_id, order)

    def _request_cancellation(self, order: Order) -> None:
        order.request_cancellation("cust-1", "changed my mind")
        self.store(order.order_id, order)

    def _record_compensation_failure(self, order: Order) -> None:
        order.record_compensation_failure("RefundPayment", "GatewayUnavailable")
        self.store(order.order_id, order)

    # -- the rules that must always hold -------------------------------------------------

    @invariant()
    def money_is_never_created(self) -> None:
        for order_id, order in self.live.items():
            payment = order.payment
            refunds = [e for e in self.history[order_id] if isinstance(e, PaymentRefunded)]
            assert len(refunds) <= 1
            if payment is not None:
                assert payment.refunded <= payment.charged
                assert payment.refunded in (Decimal("0.00"), payment.charged)
                assert payment.charged in (Decimal("0.00"), order.total)

    @invariant()
    def stock_is_never_negative_nor_lost(self) -> None:
        for product, stock in self.stocks.items():
            assert stock.available >= 0
            assert stock.available + sum(stock.reserved.values()) == self.added.get(product, 0)

    @invariant()
    def what_an_order_holds_its_products_hold_for_it(self) -> None:
        for order_id, order in self.live.items():
            held = {
                product: stock.reserved[order_id]
                for product, stock in self.stocks.items()
                if order_id in stock.reserved
            }
            if order.holds_inventory:
                assert order.reservation is not None
                assert held == {line.product_id: line.quantity for line in order.reservation.lines}
            else:
                assert held == {}

    @invariant()
    def a_cancelled_order_holds_neither_money_nor_stock(self) -> None:
        for order in self.live.values():
            if order.status is OrderStatus.CANCELLED:
                assert not order.holds_payment
                assert not order.holds_inventory
                assert order.payment is None or not order.payment.is_unsettled

    @invariant()
    def rebuilt_from_its_events_each_aggregate_is_the_same(self) -> None:
        for order_id, order in self.live.items():
            assert not order.pending
            assert order_state(Order.rebuild(self.history[order_id])) == order_state(order)
        for product, stock in self.stocks.items():
            assert stock_state(ProductStock.rebuild(self.history[product])) == stock_state(stock)


OrdersAndStock.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestOrdersAndStock = OrdersAndStock.TestCase
