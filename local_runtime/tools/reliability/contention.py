"""1. Contention: many orders at once for one product with little stock, and the judgement:
no oversell, stock exactly right, every order CONFIRMED or CANCELLED OutOfStock."""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass

from local_runtime.runtime import LocalRuntime
from local_runtime.tools.reliability.checks import Run
from local_runtime.tools.reliability.orders import (
    Order,
    Outcome,
    counts,
    new_id,
    outcomes,
    place_at_once,
    stock,
)
from order_saga.service_layer.views import stock_level


@dataclass
class ContentionResult:
    orders: int
    stock: int
    hot_product: str
    outcomes: list[Outcome]
    sold: int
    """Units of the hot product the CONFIRMED orders hold."""
    available: int
    smallest_refused: int | None
    """The fewest units of the hot product an order cancelled OutOfStock asked for."""
    seconds: float

    @property
    def statuses(self) -> Counter[str]:
        return Counter(o.status for o in self.outcomes)

    @property
    def reasons(self) -> Counter[str]:
        return Counter(o.reason for o in self.outcomes if o.reason)

    def lines(self) -> list[str]:
        return [
            f"{self.orders} orders at once for {self.stock} units of one product, "
            f"in {self.seconds:.1f} s",
            f"  ends        {counts(self.statuses)}; cancelled for {counts(self.reasons)}",
            f"  stock       sold {self.sold} + left {self.available} = {self.stock}; the "
            f"smallest order refused wanted {self.smallest_refused}",
        ]


def contention_orders(rng: random.Random, hot: str, plenty: str, count: int) -> list[Order]:
    """Mostly one unit; a quarter two or three; a third also ask for another product."""
    orders = []
    for _ in range(count):
        quantity = rng.choice((1, 1, 1, 1, 1, 1, 2, 3))
        lines: tuple[tuple[str, int], ...] = ((hot, quantity),)
        if rng.random() < 1 / 3:
            lines += ((plenty, rng.randint(1, 4)),)
        orders.append(Order(new_id("ord-rush"), lines))
    return orders


def contention_run(
    runtime: LocalRuntime, *, orders: int, units: int, seed: int, workers: int = 32
) -> ContentionResult:
    assert runtime.ports is not None
    ports = runtime.ports
    rng = random.Random(seed)
    hot, plenty = stock(ports, "12.50", units), stock(ports, "3.20", orders * 4)
    placed = contention_orders(rng, hot, plenty, orders)
    started = time.monotonic()
    accepted = place_at_once(runtime, placed, workers)
    ended = outcomes(runtime, placed, accepted)
    seconds = time.monotonic() - started
    wanted = {o.order_id: dict(o.lines)[hot] for o in placed}
    refused = [wanted[o.order_id] for o in ended if o.reason == "OutOfStock"]
    return ContentionResult(
        orders=orders,
        stock=units,
        hot_product=hot,
        outcomes=ended,
        sold=sum(wanted[o.order_id] for o in ended if o.status == "CONFIRMED"),
        available=stock_level(ports.store, hot),
        smallest_refused=min(refused, default=None),
        seconds=seconds,
    )


def judge_contention(result: ContentionResult, run: Run, label: str = "") -> None:
    run.expect(f"no oversell{label}", result.sold <= result.stock and result.available >= 0)
    run.expect(f"stock exactly right{label}", result.sold + result.available == result.stock)
    run.expect(
        f"every order CONFIRMED, or CANCELLED OutOfStock{label}",
        all(o.status == "CONFIRMED" or o.reason == "OutOfStock" for o in result.outcomes),
    )
    run.expect(
        f"no stock left that a refused order could have had{label}",
        result.smallest_refused is None or result.available < result.smallest_refused,
    )
