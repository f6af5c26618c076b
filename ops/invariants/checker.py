"""The whole store judged from what each stream says: money, stock, the gateway's ledger
and the read model."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ops.invariants.facts import (
    ORDER_PREFIX,
    PRODUCT_PREFIX,
    OrderFacts,
    ProductFacts,
    order_facts,
    product_facts,
)
from ops.invariants.ledger import ZERO, LedgerLine
from ops.invariants.report import InvariantReport, ReviewItem
from order_saga.domain.order_status import FINISHED, TERMINAL

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from order_saga.adapters.event_store import EventStore, RecordedEvent
    from order_saga.service_layer.order_summaries import OrderSummary


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
